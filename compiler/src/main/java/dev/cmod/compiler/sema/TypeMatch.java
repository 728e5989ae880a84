package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * Matches an actual tensor type against a declared type pattern, binding the pattern's unbound dim
 * names (type variables such as {@code d} in {@code f32[..., d]}) and checking the others.
 */
final class TypeMatch {
  private TypeMatch() {}

  sealed interface Pat permits AnyRank, Unknown, Fixed, ExprPat {}

  record AnyRank(Span span) implements Pat {}

  record Unknown() implements Pat {}

  record Fixed(Dim dim) implements Pat {}

  record ExprPat(Expr expr) implements Pat {}

  static Pat pat(DimExpr d) {
    if (d instanceof AnyRankDim a) {
      return new AnyRank(a.span());
    } else if (d instanceof UnknownDim u) {
      return new Unknown();
    } else if (d instanceof ExprDim e) {
      return new ExprPat(e.expr());
    } else {
      throw new IllegalStateException("unreachable");
    }
  }

  /**
   * Matches a module argument, result or let annotation. Modality types match per sample ({@code
   * ...} in front).
   */
  static void match(TypeExpr te, TensorType actual, Env env, ElabContext el, Span at, String what) {
    if (!(te instanceof TensorTypeExpr t)) {
      el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          at,
          what + " is declared '" + text(te) + "' but is " + actual,
          null);
      return;
    }
    String head = t.head().text();
    List<Pat> pats = new ArrayList<>();
    DType dt = DType.fromText(head);
    if (dt == null) {
      Modality.Shape s = Modality.shapeOf(head, t.dims().size());
      if (s == null) {
        el.fail(DiagnosticCode.BAD_TYPE, t.head().span(), "unknown type '" + head + "'", null);
      }
      dt = s.dtype();
      pats.add(new AnyRank(t.span()));
      for (int i = 0; i < t.dims().size(); i++) {
        if (!(head.equals("Class"))) {
          pats.add(pat(t.dims().get(i)));
        }
      }
    } else {
      for (DimExpr d : t.dims()) {
        pats.add(pat(d));
      }
    }
    matchPattern(dt, pats, actual, env, el, at, what, te);
  }

  static void matchPattern(
      DType dt,
      List<Pat> pats,
      TensorType actual,
      Env env,
      ElabContext el,
      Span at,
      String what,
      TypeExpr declared) {
    matchPattern(dt, pats, actual, env, el, at, what, declared, null);
  }

  /**
   * {@code code} overrides the diagnostic code of a mismatch (outputs use CM0207); null keeps the
   * default.
   */
  static void matchPattern(
      DType dt,
      List<Pat> pats,
      TensorType actual,
      Env env,
      ElabContext el,
      Span at,
      String what,
      TypeExpr declared,
      DiagnosticCode code) {
    String decl = text(declared);
    DiagnosticCode shapeCode = code != null ? code : DiagnosticCode.SHAPE_MISMATCH;
    if (dt != null && dt != actual.dtype()) {
      el.fail(
          code != null ? code : DiagnosticCode.TYPE_MISMATCH,
          at,
          what + " expects " + decl + " but got " + actual,
          actual.dtype().isFloat() == dt.isFloat() || dt == DType.BOOL
              ? "convert with cast(x, " + dt + ")"
              : "convert with cast(x, " + dt + ")");
    }
    int any = -1;
    for (int i = 0; i < pats.size(); i++) {
      if (pats.get(i) instanceof AnyRank a) {
        if (any >= 0) {
          el.fail(DiagnosticCode.BAD_TYPE, a.span(), "a type may contain '...' only once", null);
        }
        any = i;
      }
    }
    int fixed = any >= 0 ? pats.size() - 1 : pats.size();
    if ((any < 0 && actual.rank() != fixed) || (any >= 0 && actual.rank() < fixed)) {
      el.fail(
          shapeCode,
          at,
          what
              + " expects "
              + decl
              + " (rank "
              + (any >= 0 ? "at least " : "")
              + fixed
              + ") but got "
              + actual
              + " (rank "
              + actual.rank()
              + ")",
          null);
    }
    List<Pat> ps = new ArrayList<>();
    List<Dim> ds = new ArrayList<>();
    List<Integer> axes = new ArrayList<>();
    for (int i = 0; i < pats.size(); i++) {
      if (i == any) {
        continue;
      }
      int axis = any >= 0 && i > any ? actual.rank() - (pats.size() - i) : i;
      ps.add(pats.get(i));
      ds.add(actual.dim(axis));
      axes.add(axis);
    }
    Body b = Body.bare(env);
    boolean[] done = new boolean[ps.size()];
    // first bind the plain names that are not yet known
    for (int i = 0; i < ps.size(); i++) {
      if (ps.get(i) instanceof ExprPat e
          && e.expr() instanceof NameRef n
          && env.lookup(n.name()) == null
          && !Builtins.isBuiltin(n.name())) {
        env.define(n.name(), new Val.IntV(ds.get(i)));
        done[i] = true;
      } else if (ps.get(i) instanceof Unknown) {
        done[i] = true;
      }
    }
    for (int i = 0; i < ps.size(); i++) {
      if (done[i]) {
        continue;
      }
      Dim want = Dim.UNKNOWN;
      if (ps.get(i) instanceof Fixed f) {
        want = f.dim();
      } else if (ps.get(i) instanceof ExprPat e) {
        want = el.dimValue(el.eval(e.expr(), b, null), e.expr().span(), "a dim");
      }
      Dim have = ds.get(i);
      if (!want.isUnknown() && !have.isUnknown() && !want.equals(have)) {
        String src =
            ps.get(i) instanceof ExprPat e && !(e.expr() instanceof IntLit)
                ? " (" + text(e.expr()) + ")"
                : "";
        el.fail(
            shapeCode,
            at,
            what
                + " expects "
                + decl
                + " but got "
                + actual
                + ": axis "
                + axes.get(i)
                + " is "
                + have
                + ", expected "
                + want
                + src,
            null);
      }
    }
  }

  static String text(TypeExpr te) {
    Span s = te.span();
    return s.file().text().substring(s.start(), s.end());
  }

  static String text(Expr e) {
    Span s = e.span();
    return s.file().text().substring(s.start(), s.end());
  }
}
