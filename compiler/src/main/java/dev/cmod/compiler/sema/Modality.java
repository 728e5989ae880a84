package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * Modality types (section 2): sugar over tensors with the metadata the compiler uses: which axes
 * are structural (for the structure class), which axis is time (for align), the vocabulary size.
 * Model inputs and outputs get an implicit leading {@code batch} dim unless a plain tensor type
 * places it ({@code f32[2, batch, 128]}) or is marked {@code exact} ({@code exact i64[]}).
 */
public final class Modality {
  private Modality() {}

  /**
   * A resolved model-level type. {@code structural} are axis indices into {@code type}; {@code
   * batchAxis} is where the batch axis is (0 for the implicit one), -1 for a type without one.
   */
  public record Resolved(
      TensorType type,
      String modality,
      List<Integer> structural,
      int timeAxis,
      Long vocab,
      int batchAxis) {
    static Resolved plain(TensorType t) {
      return plain(t, 0);
    }

    /**
     * A plain tensor: every axis but the batch axis and the last (the feature axis) is structural;
     * the first of them is the time axis.
     */
    static Resolved plain(TensorType t, int batchAxis) {
      List<Integer> rest = new ArrayList<>();
      for (int i = 0; i < t.rank(); i++) {
        if (i != batchAxis) {
          rest.add(i);
        }
      }
      List<Integer> s = rest.isEmpty() ? List.of() : rest.subList(0, rest.size() - 1);
      return new Resolved(
          t, "tensor", List.copyOf(s), rest.size() >= 2 ? rest.get(0) : -1, null, batchAxis);
    }

    public String describe() {
      return modality.equals("tensor") ? type.toString() : modality + " " + type;
    }
  }

  /**
   * How a modality name expands: element type, expected number of dims, structural/time positions.
   */
  record Shape(DType dtype, int[] arity, int[] structural, int time) {}

  static Shape shapeOf(String head, int n) {
    return switch (head) {
      case "Image" -> new Shape(DType.F32, new int[] {3}, new int[] {1, 2}, -1);
      case "Audio" -> new Shape(DType.F32, new int[] {1, 2}, new int[] {n - 1}, n - 1);
      case "Video" -> new Shape(DType.F32, new int[] {4}, new int[] {0, 2, 3}, 0);
      case "Text" -> new Shape(DType.I64, new int[] {1}, new int[] {0}, 0);
      case "Class" -> new Shape(DType.I64, new int[] {1}, new int[] {}, -1);
      case "Vector" -> new Shape(DType.F32, new int[] {1}, new int[] {}, -1);
      case "Seq" -> new Shape(DType.F32, new int[] {2}, new int[] {0}, 0);
      default -> null;
    };
  }

  static boolean isModality(String head) {
    return shapeOf(head, 1) != null;
  }

  /**
   * Resolves a model input's type; unbound dim names become model symbols (defined in {@code env}).
   * {@code exact} is the span of the {@code exact} keyword or null.
   */
  static Resolved resolve(TypeExpr te, Span exact, ElabContext el, Env env, boolean implicitBatch) {
    if (!(te instanceof TensorTypeExpr t)) {
      el.fail(
          DiagnosticCode.BAD_TYPE,
          te.span(),
          "a model input needs a tensor or modality type, got '"
              + ((NamedTypeExpr) te).name().text()
              + "'",
          "for example Image[3, 224, 224], Text[seq] vocab 8000 or f32[16]");
      return null;
    }
    String head = t.head().text();
    Shape s = shapeOf(head, t.dims().size());
    int written = writtenBatch(t, exact, s != null, el, env);
    List<Dim> dims = new ArrayList<>();
    boolean leading = implicitBatch && exact == null && written < 0;
    if (leading) {
      dims.add(Dim.sym("batch"));
      env.define("batch", new Val.IntV(Dim.sym("batch")));
    }
    int off = dims.size();
    for (DimExpr d : t.dims()) {
      dims.add(symbolicDim(d, el, env));
    }
    if (s == null) {
      DType dt = DType.fromText(head);
      if (dt == null) {
        unknownType(t, el);
      }
      if (t.vocab() != null) {
        el.fail(
            DiagnosticCode.BAD_TYPE, t.vocab().span(), "vocab applies to Text inputs only", null);
      }
      return Resolved.plain(new TensorType(dt, dims), leading ? 0 : written);
    }
    checkArity(t, s, el);
    Long vocab = null;
    if (t.vocab() != null) {
      if (!head.equals("Text")) {
        el.fail(
            DiagnosticCode.BAD_TYPE, t.vocab().span(), "vocab applies to Text inputs only", null);
      }
      vocab = el.intValue(el.eval(t.vocab(), Body.bare(env), null), t.vocab().span(), "vocab size");
    }
    if (head.equals("Class")) {
      // Class[N] is one index per example; N, the number of classes, is kept as its range
      Dim n = dims.remove(dims.size() - 1);
      vocab = n.isKnown() ? n.value() : null;
    }
    List<Integer> structural = new ArrayList<>();
    for (int a : s.structural()) {
      structural.add(a + off);
    }
    return new Resolved(
        new TensorType(s.dtype(), dims),
        head,
        structural,
        s.time() < 0 ? -1 : s.time() + off,
        vocab,
        leading ? 0 : -1);
  }

  /**
   * The index of the dim written as the bare name {@code batch} (the model's batch symbol, not a
   * const of that name), or -1. Checks the rules of placing it: once per type, and only in plain
   * tensor types, as {@code exact} is.
   */
  private static int writtenBatch(
      TensorTypeExpr t, Span exact, boolean modality, ElabContext el, Env env) {
    if (exact != null && modality) {
      el.fail(
          DiagnosticCode.BAD_TYPE,
          exact,
          "'exact' applies to element-type tensors, not to " + t.head().text(),
          "write every dim of the tensor, e.g. exact f32[1, 3, 224, 224]");
    }
    Val bound = env.lookup("batch");
    if (bound != null && !(bound instanceof Val.IntV iv && iv.dim().equals(Dim.sym("batch")))) {
      return -1;
    }
    int found = -1;
    for (int i = 0; i < t.dims().size(); i++) {
      if (t.dims().get(i) instanceof ExprDim e
          && e.expr() instanceof NameRef n
          && n.name().equals("batch")) {
        if (found >= 0) {
          el.fail(
              DiagnosticCode.BAD_TYPE,
              e.span(),
              "'batch' names the batch axis, which a type has at most once",
              "name the other axis differently");
        }
        if (modality) {
          el.fail(
              DiagnosticCode.BAD_TYPE,
              e.span(),
              t.head().text() + " has its batch axis first; 'batch' cannot be placed in it",
              "write a tensor type to place the batch axis, e.g. f32[3, batch, 224, 224]");
        }
        found = i;
      }
    }
    return found;
  }

  private static void checkArity(TensorTypeExpr t, Shape s, ElabContext el) {
    for (int a : s.arity()) {
      if (a == t.dims().size()) {
        return;
      }
    }
    String want =
        s.arity().length == 1
            ? s.arity()[0] + " dims"
            : s.arity()[0] + " or " + s.arity()[1] + " dims";
    el.fail(
        DiagnosticCode.BAD_TYPE,
        t.span(),
        t.head().text() + " takes " + want + ", got " + t.dims().size(),
        switch (t.head().text()) {
          case "Image" -> "write Image[C, H, W]";
          case "Audio" -> "write Audio[T] or Audio[C, T]";
          case "Video" -> "write Video[T, C, H, W]";
          case "Seq" -> "write Seq[S, D]";
          default -> "write " + t.head().text() + "[N]";
        });
  }

  private static void unknownType(TensorTypeExpr t, ElabContext el) {
    List<String> all =
        new ArrayList<>(List.of("Image", "Audio", "Video", "Text", "Class", "Vector", "Seq"));
    for (DType d : DType.values()) {
      all.add(d.text);
    }
    String near = Suggest.closest(t.head().text(), all);
    el.fail(
        DiagnosticCode.BAD_TYPE,
        t.head().span(),
        "unknown type '" + t.head().text() + "'",
        near != null
            ? "did you mean '" + near + "'?"
            : "element types: "
                + String.join(", ", all.subList(7, all.size()))
                + "; modalities: "
                + String.join(", ", all.subList(0, 7)));
  }

  private static Dim symbolicDim(DimExpr d, ElabContext el, Env env) {
    if (d instanceof AnyRankDim a) {
      el.fail(
          DiagnosticCode.BAD_TYPE,
          a.span(),
          "model inputs need a fixed rank; '...' is for module signatures",
          null);
    } else if (d instanceof UnknownDim u) {
      el.fail(
          DiagnosticCode.BAD_TYPE,
          u.span(),
          "model inputs need named or known dims, not '_'",
          "name the dim (e.g. seq) to make it symbolic");
    } else if (d instanceof ExprDim e) {
      if (e.expr() instanceof NameRef n && env.lookup(n.name()) == null) {
        Dim s = Dim.sym(n.name());
        env.define(n.name(), new Val.IntV(s));
        return s;
      }
      Dim v = el.dimValue(el.eval(e.expr(), Body.bare(env), null), e.span(), "a dim");
      if (v.isKnown() && v.value() < 0) {
        el.fail(DiagnosticCode.BAD_DIM, e.span(), "dims must not be negative, got " + v, null);
      }
      return v;
    }
    return null;
  }

  /** A parameter's type: every dim evaluated in {@code env} (no implicit batch). */
  static TensorType concrete(TypeExpr te, ElabContext el, Env env) {
    if (!(te instanceof TensorTypeExpr t)) {
      el.fail(
          DiagnosticCode.BAD_TYPE,
          te.span(),
          "a parameter needs a tensor type such as f32[4, 8]",
          null);
      return null;
    }
    Body b = Body.bare(env);
    List<Dim> dims = new ArrayList<>();
    for (DimExpr d : t.dims()) {
      if (!(d instanceof ExprDim e)) {
        el.fail(DiagnosticCode.BAD_TYPE, d.span(), "a parameter's dims must all be sizes", null);
        return null;
      }
      dims.add(el.dimValue(el.eval(e.expr(), b, null), e.span(), "a parameter dim"));
    }
    String head = t.head().text();
    DType dt = DType.fromText(head);
    if (dt == null) {
      Shape s = shapeOf(head, dims.size());
      if (s == null) {
        unknownType(t, el);
      }
      dt = s.dtype();
    }
    return new TensorType(dt, dims);
  }

  /**
   * Checks a model output's value against its declared type; returns the resolved declaration.
   * {@code exact} is the span of the {@code exact} keyword or null.
   */
  static Resolved checkOutput(
      TypeExpr te, Span exact, Value value, ElabContext el, Env env, Span at, String name) {
    if (!(te instanceof TensorTypeExpr t)) {
      el.fail(
          DiagnosticCode.BAD_TYPE, te.span(), "an output needs a tensor or modality type", null);
      return null;
    }
    String head = t.head().text();
    TensorType actual = value.type();
    Shape s = shapeOf(head, t.dims().size());
    int written = writtenBatch(t, exact, s != null, el, env);
    if (head.equals("Class")) {
      checkArity(t, s, el);
      // logits [batch, N] or indices [batch]
      if (actual.dtype().isFloat()) {
        matchOutput(DType.F32, withBatch(t.dims(), true), actual, env, el, at, name, te);
        return new Resolved(actual, "Class", List.of(), -1, null, 0);
      }
      matchOutput(
          DType.I64, List.of(new TypeMatch.Fixed(Dim.sym("batch"))), actual, env, el, at, name, te);
      return new Resolved(actual, "Class", List.of(), -1, null, 0);
    }
    DType dt;
    if (s != null) {
      checkArity(t, s, el);
      dt = s.dtype();
    } else {
      dt = DType.fromText(head);
      if (dt == null) {
        unknownType(t, el);
      }
    }
    boolean leading = exact == null && written < 0;
    matchOutput(dt, withBatch(t.dims(), leading), actual, env, el, at, name, te);
    if (s == null) {
      return Resolved.plain(actual, leading ? 0 : written);
    }
    List<Integer> structural = new ArrayList<>();
    for (int a : s.structural()) {
      structural.add(a + 1);
    }
    return new Resolved(actual, head, structural, s.time() < 0 ? -1 : s.time() + 1, null, 0);
  }

  /** Checks an output's value against its declared pattern; mismatches are CM0207. */
  private static void matchOutput(
      DType dt,
      List<TypeMatch.Pat> pats,
      TensorType actual,
      Env env,
      ElabContext el,
      Span at,
      String name,
      TypeExpr declared) {
    TypeMatch.matchPattern(
        dt,
        pats,
        actual,
        env,
        el,
        at,
        "output '" + name + "'",
        declared,
        DiagnosticCode.OUTPUT_MISMATCH);
  }

  private static List<TypeMatch.Pat> withBatch(List<DimExpr> dims, boolean leading) {
    List<TypeMatch.Pat> out = new ArrayList<>();
    if (leading) {
      out.add(new TypeMatch.Fixed(Dim.sym("batch")));
    }
    for (DimExpr d : dims) {
      out.add(TypeMatch.pat(d));
    }
    return out;
  }
}
