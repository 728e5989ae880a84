package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.InitV;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import java.util.List;

/**
 * LoRA and IA³ under {@code --adapters runtime-stacked}: the factors of every adapter of the
 * compilation's {@link AdapterPlan}, stacked along a new leading axis, and each example's row
 * picked by the {@code adapter_index} input. Kept apart from {@link Adaptation}, which decides
 * where a composition applies, because this is only a different way to build the factors.
 */
final class StackedAdapters {
  private StackedAdapters() {}

  /**
   * Stacked run-time adapters: the factors of every adapter of the plan stacked along a new leading
   * axis ({@code [n, in, r]}, {@code [n, r, out]}; IA³ {@code [n, out]}), each example's row picked
   * by the {@code adapter_index} input. The weight is spelled out per example ([batch, in, out], as
   * a hypernetwork's) with a record of its parts, so that a matmul takes it apart ({@link
   * Params#stackedMatmul}) and the spelled-out form is pruned when nothing else reads it. An
   * adapter without a value for a factor gets the compiled one (its weights file's, else the
   * initializer).
   */
  static Value adapt(
      Adaptation ad, Value w, String[] fp, long in, long out, ElabContext el, Span span) {
    DType dt = w.type().dtype();
    Value idx = el.params().adapterIndex(span);
    Value scaled;
    if (ad.kind == Adaptation.Kind.LORA) {
      Value a =
          factor(
              ad, el, fp[0], TensorType.of(dt, in, ad.rank), new InitV("kaiming", List.of()), span);
      Value b =
          factor(
              ad, el, fp[1], TensorType.of(dt, ad.rank, out), new InitV("zeros", List.of()), span);
      Value ra = el.node(Op.TAKE, Attrs.NONE, span, a, idx);
      Value rb = el.node(Op.TAKE, Attrs.NONE, span, b, idx);
      Value ab = el.node(Op.MATMUL, Attrs.NONE, span, ra, rb);
      Value scale =
          el.constant(
              Tensor.ofFloats(dt, new long[0], new float[] {(float) (ad.alpha / ad.rank)}), span);
      Value delta = el.node(Op.MUL, Attrs.NONE, span, ab, scale);
      scaled = el.node(Op.ADD, Attrs.NONE, span, w, delta);
      el.params()
          .markStackedWeight(
              scaled, new Params.Stacked(w, ra, rb, scale, null), List.of(ab, delta, scaled));
    } else {
      Value l = factor(ad, el, fp[0], TensorType.of(dt, out), new InitV("ones", List.of()), span);
      Value rows = el.node(Op.TAKE, Attrs.NONE, span, l, idx);
      Value col =
          el.node(
              Op.RESHAPE,
              Attrs.of(
                  "dims",
                  List.of(
                      idx.type().dim(0), dev.cmod.ir.type.Dim.of(1), dev.cmod.ir.type.Dim.of(out))),
              span,
              rows);
      scaled = el.node(Op.MUL, Attrs.NONE, span, w, col);
      el.params()
          .markStackedWeight(scaled, new Params.Stacked(w, null, null, null, col), List.of(scaled));
    }
    el.params().markPerExampleWeight(scaled);
    return scaled;
  }

  private static Value factor(
      Adaptation ad, ElabContext el, String path, TensorType t, InitV init, Span span) {
    Value v = ad.made.get(path);
    if (v != null) {
      return v;
    }
    Tensor compiled = el.params().paramValue(path, t, () -> init, span, span);
    List<AdapterPlan.Adapter> adapters = el.opts().adapters().adapters();
    long[] shape = compiled.shape();
    long[] full = new long[shape.length + 1];
    full[0] = adapters.size();
    System.arraycopy(shape, 0, full, 1, shape.length);
    int per = compiled.size();
    float[] data = new float[Math.multiplyExact(per, adapters.size())];
    for (int i = 0; i < adapters.size(); i++) {
      AdapterPlan.Adapter a = adapters.get(i);
      Tensor given = a.weights().get(path);
      if (given != null && !java.util.Arrays.equals(given.shape(), shape)) {
        el.fail(
            DiagnosticCode.ADAPTER_MISMATCH,
            ad.spans.isEmpty() ? span : ad.spans.get(0),
            "adapter '"
                + a.name()
                + "' ("
                + a.source()
                + ") gives '"
                + path
                + "' the shape "
                + java.util.Arrays.toString(given.shape())
                + ", the parameter is "
                + t,
            "write the adapter's factors with the parameter's shape (cmod explain lists them)");
      }
      System.arraycopy((given != null ? given : compiled).floats(), 0, data, i * per, per);
    }
    v =
        el.graph()
            .addParam(path, Tensor.ofFloats(t.dtype(), full, data), ad.trainable, span.toLoc());
    ad.made.put(path, v);
    el.facts().adapterFactors.add(path);
    return v;
  }
}
