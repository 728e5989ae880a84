package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import java.util.List;

/**
 * Binds a module's declared parameters (hyperparameters or arguments) from call arguments: arity,
 * names, defaults and the declared types. One job: the check and the binding, reported through
 * {@link ElabContext}.
 */
final class ParamBinding {
  private ParamBinding() {}

  /**
   * Binds declared parameters (hyperparameters or arguments) from call arguments into {@code env}.
   */
  static void bindParams(
      List<ParamDecl> decls,
      Args args,
      Env env,
      String what,
      String owner,
      boolean hyper,
      ElabContext el) {
    if (args.pos().size() > decls.size()) {
      el.fail(
          DiagnosticCode.ARITY,
          args.posSpans().get(decls.size()),
          owner
              + " takes "
              + decls.size()
              + " "
              + what
              + (decls.size() == 1 ? "" : "s")
              + ", got "
              + args.pos().size(),
          hyper && decls.isEmpty()
              ? "make an instance first, then apply it: " + owner + "()(x)"
              : signature(decls, owner));
    }
    for (String k : args.named().keySet()) {
      if (decls.stream().noneMatch(p -> p.name().text().equals(k))) {
        String near = Suggest.closest(k, decls.stream().map(p -> p.name().text()).toList());
        el.fail(
            DiagnosticCode.UNKNOWN_ARGUMENT,
            args.namedSpans().get(k),
            owner + " has no " + what + " '" + k + "'",
            near != null ? "did you mean '" + near + "'?" : signature(decls, owner));
      }
    }
    for (int i = 0; i < decls.size(); i++) {
      ParamDecl p = decls.get(i);
      String pn = p.name().text();
      Val v;
      Span at;
      if (i < args.pos().size()) {
        v = args.pos().get(i);
        at = args.posSpans().get(i);
        if (args.named().containsKey(pn)) {
          el.fail(
              DiagnosticCode.DUPLICATE,
              args.namedSpans().get(pn),
              pn + " is given both by position and by name",
              null);
        }
      } else if (args.named().containsKey(pn)) {
        v = args.named().get(pn);
        at = args.namedSpans().get(pn);
      } else if (p.dflt() != null) {
        Body b = Body.bare(env);
        v = el.eval(p.dflt(), b, null);
        at = p.dflt().span();
      } else {
        el.fail(
            DiagnosticCode.ARITY,
            args.span(),
            owner + " is missing its " + what + " '" + pn + "'",
            signature(decls, owner));
        return;
      }
      if (v instanceof ErrorV) {
        throw ElabError.INSTANCE;
      }
      env.define(pn, checkParamValue(p, v, env, at, owner, el));
    }
  }

  private static Val checkParamValue(
      ParamDecl p, Val v, Env env, Span at, String owner, ElabContext el) {
    String what = "'" + p.name().text() + "' of " + owner;
    if (p.type() instanceof NamedTypeExpr nt) {
      String t = nt.name().text();
      switch (t) {
        case "int" -> {
          if (v instanceof IntV) {
            return v;
          }
          if (v instanceof FloatV f && f.value() == Math.rint(f.value())) {
            return IntV.of((long) f.value());
          }
        }
        case "float" -> {
          if (v instanceof FloatV) {
            return v;
          }
          if (v instanceof IntV i && i.dim().isKnown()) {
            return new FloatV(i.dim().value());
          }
        }
        case "bool" -> {
          if (v instanceof BoolV) {
            return v;
          }
        }
        case "string", "str" -> {
          if (v instanceof StrV) {
            return v;
          }
        }
        case "dtype" -> {
          if (v instanceof DTypeV) {
            return v;
          }
        }
        case "module", "instance", "any" -> {
          return v;
        }
        case "list" -> {
          if (v instanceof ListV) {
            return v;
          }
        }
        default -> {
          return el.fail(
              DiagnosticCode.BAD_TYPE,
              nt.span(),
              "unknown type '" + t + "'",
              "scalar types are int, float, bool and string; tensors are written like f32[n, d]");
        }
      }
      if (v instanceof NoneV && p.dflt() instanceof NoneLit) {
        return v;
      }
      return el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          at,
          what + " must be " + t + ", got " + Val.describe(v),
          null);
    }
    if (v instanceof NoneV && p.dflt() instanceof NoneLit) {
      return v;
    }
    if (!(v instanceof TensorV tv)) {
      return el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          at,
          what + " must be a tensor, got " + Val.describe(v),
          null);
    }
    TypeMatch.match(p.type(), tv.type(), env, el, at, what);
    return v;
  }

  private static String signature(List<ParamDecl> decls, String owner) {
    StringBuilder sb = new StringBuilder("expected ").append(owner).append('(');
    for (int i = 0; i < decls.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      ParamDecl p = decls.get(i);
      sb.append(p.name().text());
      if (p.dflt() != null) {
        sb.append(" = ...");
      }
    }
    return sb.append(')').toString();
  }
}
