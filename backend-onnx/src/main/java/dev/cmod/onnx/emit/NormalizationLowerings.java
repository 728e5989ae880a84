package dev.cmod.onnx.emit;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.NormalizationOps;
import dev.cmod.ir.type.DType;
import java.util.List;

/**
 * Lowerings of the normalizations over the last axis: softmax and log-softmax (over their axis),
 * layer norm (ONNX's LayerNormalization) and RMS norm (composed: ONNX has no RMSNormalization
 * before opset 23, where the fusion step emits it, see {@code FusionRules.RMS_NORM_23}).
 */
final class NormalizationLowerings {
  private NormalizationLowerings() {}

  static void register(LoweringTable.Registrar r) {
    r.put(
        Op.SOFTMAX,
        (cx, n, in, out) ->
            cx.node("Softmax", in, out, Attr.i("axis", NormalizationOps.AXIS.get(n.attrs()))));
    r.put(
        Op.LOG_SOFTMAX,
        (cx, n, in, out) ->
            cx.node("LogSoftmax", in, out, Attr.i("axis", NormalizationOps.AXIS.get(n.attrs()))));
    r.put(
        Op.LAYER_NORM,
        (cx, n, in, out) ->
            cx.node(
                "LayerNormalization",
                in,
                out,
                Attr.i("axis", -1),
                Attr.f(
                    "epsilon", (float) (double) NormalizationOps.LAYER_NORM_EPS.get(n.attrs()))));
    r.put(Op.RMS_NORM, NormalizationLowerings::rmsNorm);
  }

  /** x / sqrt(mean(x*x over the last axis) + eps) * gamma. */
  private static void rmsNorm(LoweringContext cx, Node n, List<String> in, List<String> out) {
    DType dt = n.type().dtype();
    String x = in.get(0);
    int last = n.type().rank() - 1;
    String ms = cx.reduceOp("ReduceMean", cx.op("Mul", x, x), new long[] {last}, 1);
    String rms =
        cx.op(
            "Sqrt", cx.op("Add", ms, cx.scalar(NormalizationOps.RMS_NORM_EPS.get(n.attrs()), dt)));
    cx.node("Mul", List.of(cx.op("Div", x, rms), in.get(1)), out);
  }
}
