package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import java.util.List;

/**
 * Conditions ({@code condition gen on edges via control(...)}): records a control branch on an
 * instance and adds the branches to the instance's result when it is applied. One job: control
 * conditioning, built from the services of {@link ElabContext}.
 */
final class Conditions {
  private Conditions() {}

  /**
   * {@code condition gen on edges via control(strength = 1.0)} (section 7): every later application
   * of the instance {@code gen} gets {@code strength * proj(edges)} added to its result, where proj
   * is a zero-initialized projection of the condition's feature axis onto the result's (a 1x1
   * convolution for images, a linear map otherwise), so a fresh control branch changes nothing.
   */
  static void condition(ConditionItem ci, Body body, ElabContext el) {
    if (!ci.via().text().equals("control")) {
      el.fail(
          DiagnosticCode.UNSUPPORTED,
          ci.via().span(),
          "condition ... via " + ci.via().text() + "(...) is not supported",
          "use via control(strength = 1.0)");
    }
    double strength = 1.0;
    for (Arg a : ci.args()) {
      if (a.name() != null && !a.name().text().equals("strength")) {
        el.fail(
            DiagnosticCode.UNKNOWN_ARGUMENT,
            a.name().span(),
            "control has no parameter '" + a.name().text() + "'",
            "control(strength = 1.0)");
      }
      strength = el.number(el.eval(a.value(), body, null), a.value().span(), "control strength");
    }
    Val target = body.env.lookup(ci.target().text());
    if (!(target instanceof InstanceV iv)) {
      el.fail(
          target == null ? DiagnosticCode.UNKNOWN_NAME : DiagnosticCode.TYPE_MISMATCH,
          ci.target().span(),
          "condition needs a module instance to condition, got "
              + (target == null
                  ? "an unknown name '" + ci.target().text() + "'"
                  : Val.describe(target)),
          "bind it first: let gen = Decoder(...)");
      return;
    }
    if (iv.inst().applied) {
      el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          ci.span(),
          "'" + ci.target().text() + "' is already applied above this condition",
          "put the condition before the first use of " + ci.target().text());
    }
    Value source =
        el.tensorOf(
            el.eval(new NameRef(ci.source().text(), ci.source().span()), body, null),
            ci.source().span(),
            "the condition");
    iv.inst().controls.add(new Instance.Control(source, strength, ci.span()));
  }

  /** Adds the instance's control branches to its result. */
  static Value control(Instance inst, Value y, Span span, ElabContext el) {
    Value out = y;
    for (int i = 0; i < inst.controls.size(); i++) {
      Instance.Control c = inst.controls.get(i);
      TensorType ty = y.type();
      TensorType tc = c.source().type();
      String base = inst.path + ".control" + (i == 0 ? "" : Integer.toString(i));
      Value proj;
      if (ty.rank() == 4 && tc.rank() == 4 && ty.dim(1).isKnown() && tc.dim(1).isKnown()) {
        long co = ty.dim(1).value();
        long ch = tc.dim(1).value();
        Value w =
            controlParam(
                inst, base + ".weight", TensorType.of(tc.dtype(), co, ch, 1, 1), c.span(), el);
        Value b = controlParam(inst, base + ".bias", TensorType.of(tc.dtype(), co), c.span(), el);
        proj =
            el.node(Op.CONV2D, Attrs.of("stride", 1L, "padding", 0L), c.span(), c.source(), w, b);
      } else {
        if (ty.rank() == 0
            || tc.rank() == 0
            || !ty.dim(ty.rank() - 1).isKnown()
            || !tc.dim(tc.rank() - 1).isKnown()) {
          el.fail(
              DiagnosticCode.SHAPE_MISMATCH,
              c.span(),
              "control needs known feature sizes: the condition is "
                  + tc
                  + " and "
                  + inst.path
                  + " gives "
                  + ty,
              null);
          return y;
        }
        long dc = tc.dim(tc.rank() - 1).value();
        long dy = ty.dim(ty.rank() - 1).value();
        Value w =
            controlParam(inst, base + ".weight", TensorType.of(tc.dtype(), dc, dy), c.span(), el);
        Value b = controlParam(inst, base + ".bias", TensorType.of(tc.dtype(), dy), c.span(), el);
        proj =
            el.node(
                Op.ADD,
                Attrs.NONE,
                c.span(),
                el.node(Op.MATMUL, Attrs.NONE, c.span(), c.source(), w),
                b);
      }
      Value s =
          el.constant(
              Tensor.ofFloats(ty.dtype(), new long[0], new float[] {(float) c.strength()}),
              c.span());
      out =
          el.node(
              Op.ADD, Attrs.NONE, c.span(), out, el.node(Op.MUL, Attrs.NONE, c.span(), proj, s));
    }
    return out;
  }

  private static Value controlParam(
      Instance inst, String path, TensorType t, Span span, ElabContext el) {
    String key = "<control>" + path;
    Value v = inst.params.get(key);
    if (v == null) {
      v = el.params().createParam(path, t, () -> new InitV("zeros", List.of()), true, span, span);
      inst.params.put(key, v);
    }
    return v;
  }
}
