package dev.cmod.onnx.emit;

import ai.onnx.proto.OnnxMl.AttributeProto;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.type.DType;
import java.util.List;

/**
 * Lowerings of the reductions over one axis (the IR reduces one axis per node; {@code keep} keeps
 * it with size 1), ArgMax, and the cosine similarity, which is composed of sums.
 */
final class ReductionLowerings {
  private ReductionLowerings() {}

  static void register(LoweringTable.Registrar r) {
    r.put(
        Op.REDUCE_SUM,
        (cx, n, in, out) ->
            cx.node(
                "ReduceSum",
                List.of(in.get(0), cx.i64s(n.attrs().getLong("axis"))),
                out,
                keepdims(n.attrs())));
    r.put(Op.REDUCE_MEAN, reduce("ReduceMean"));
    r.put(Op.REDUCE_MAX, reduce("ReduceMax"));
    r.put(Op.REDUCE_MIN, reduce("ReduceMin"));
    r.put(
        Op.ARGMAX,
        (cx, n, in, out) ->
            cx.node(
                "ArgMax",
                in,
                out,
                Attr.i("axis", n.attrs().getLong("axis")),
                keepdims(n.attrs()),
                Attr.i("select_last_index", 0)));
    r.put(Op.COSINE, ReductionLowerings::cosine);
  }

  /** A reduction whose axes are an attribute at opset 17 (ReduceSum's are an input). */
  private static OpLowering reduce(String opType) {
    return (cx, n, in, out) ->
        cx.node(opType, in, out, Attr.ints("axes", n.attrs().getLong("axis")), keepdims(n.attrs()));
  }

  /** ONNX's keepdims from the IR's {@code keep} (absent: false). */
  private static AttributeProto keepdims(Attrs a) {
    return Attr.i("keepdims", a.getBool("keep", false) ? 1 : 0);
  }

  /**
   * sum(a*b) / max(sqrt(sum(a*a)) * sqrt(sum(b*b)), 1e-8) over {@code axis}, after broadcasting a
   * and b.
   */
  private static void cosine(LoweringContext cx, Node n, List<String> in, List<String> out) {
    DType dt = n.type().dtype();
    String a = in.get(0);
    String b = in.get(1);
    String ab = cx.op("Mul", a, b);
    if (!cx.operandType(n, 0).dims().equals(cx.operandType(n, 1).dims())) {
      String shape = cx.shapeOf(ab);
      a = cx.op("Expand", a, shape);
      b = cx.op("Expand", b, shape);
    }
    String axes = cx.i64s(n.attrs().getLong("axis"));
    var keep0 = Attr.i("keepdims", 0);
    String dot = cx.op("ReduceSum", List.of(ab, axes), keep0);
    String na = cx.op("Sqrt", cx.op("ReduceSum", List.of(cx.op("Mul", a, a), axes), keep0));
    String nb = cx.op("Sqrt", cx.op("ReduceSum", List.of(cx.op("Mul", b, b), axes), keep0));
    String den = cx.op("Max", cx.op("Mul", na, nb), cx.scalar(1e-8, dt));
    cx.node("Div", List.of(dot, den), out);
  }
}
