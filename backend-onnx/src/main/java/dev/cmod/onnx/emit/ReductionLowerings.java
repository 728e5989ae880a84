package dev.cmod.onnx.emit;

import ai.onnx.proto.OnnxMl.AttributeProto;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.ReductionOps;
import java.util.List;

/**
 * Lowerings of the reductions over one axis (the IR reduces one axis per node; {@code keep} keeps
 * it with size 1), ArgMax and CumSum.
 */
final class ReductionLowerings {
  private ReductionLowerings() {}

  static void register(LoweringTable.Registrar r) {
    r.put(
        Op.REDUCE_SUM,
        (cx, n, in, out) ->
            cx.node(
                "ReduceSum",
                List.of(in.get(0), cx.i64s(ReductionOps.AXIS.get(n.attrs()))),
                out,
                keepdims(n.attrs())));
    r.put(Op.REDUCE_MEAN, reduce("ReduceMean"));
    r.put(Op.REDUCE_MAX, reduce("ReduceMax"));
    r.put(Op.REDUCE_MIN, reduce("ReduceMin"));
    r.put(Op.REDUCE_PROD, reduce("ReduceProd"));
    r.put(
        Op.CUMSUM,
        (cx, n, in, out) ->
            cx.node(
                "CumSum",
                List.of(in.get(0), cx.i64(ReductionOps.AXIS.get(n.attrs()))),
                out,
                Attr.i("exclusive", ReductionOps.EXCLUSIVE.get(n.attrs()) ? 1 : 0),
                Attr.i("reverse", ReductionOps.REVERSE.get(n.attrs()) ? 1 : 0)));
    r.put(
        Op.ARGMAX,
        (cx, n, in, out) ->
            cx.node(
                "ArgMax",
                in,
                out,
                Attr.i("axis", ReductionOps.AXIS.get(n.attrs())),
                keepdims(n.attrs()),
                Attr.i("select_last_index", ReductionOps.LAST.get(n.attrs()) ? 1 : 0)));
  }

  /** A reduction whose axes are an attribute up to opset 17 (ReduceSum's are an input). */
  private static OpLowering reduce(String opType) {
    return (cx, n, in, out) ->
        cx.reduce(
            opType,
            in.get(0),
            new long[] {ReductionOps.AXIS.get(n.attrs())},
            ReductionOps.KEEP.get(n.attrs()) ? 1 : 0,
            out);
  }

  /** ONNX's keepdims from the IR's {@code keep} (absent: false). */
  private static AttributeProto keepdims(Attrs a) {
    return Attr.i("keepdims", ReductionOps.KEEP.get(a) ? 1 : 0);
  }
}
