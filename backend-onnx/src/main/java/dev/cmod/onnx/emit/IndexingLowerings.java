package dev.cmod.onnx.emit;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.IndexingOps;
import dev.cmod.ir.type.DType;
import java.util.List;

/**
 * Lowerings of the operators that index, select or convert (the family of their definitions in
 * {@code dev.cmod.ir.op}): take (Gather on axis 0), GatherElements, ScatterElements, one-hot,
 * cosine similarity along an axis, top-k, cast, and sparse routing's nonzero (NonZero, squeezed to
 * 1-D) and scatter_add (ScatterND with reduction add over row indices). The IR's out-of-range
 * conventions differ from ONNX's in places, and the lowerings bridge them.
 */
final class IndexingLowerings {
  private IndexingLowerings() {}

  static void register(LoweringTable.Registrar r) {
    r.put(Op.TAKE, (cx, n, in, out) -> cx.node("Gather", in, out, Attr.i("axis", 0)));
    r.put(
        Op.GATHER_ELEMENTS,
        (cx, n, in, out) ->
            cx.node(
                "GatherElements",
                in,
                out,
                Attr.i("axis", IndexingOps.ELEMENT_AXIS.axis(n.attrs(), n.type().rank()))));
    r.put(
        Op.SCATTER_ELEMENTS,
        (cx, n, in, out) ->
            cx.node(
                "ScatterElements",
                in,
                out,
                Attr.i("axis", IndexingOps.ELEMENT_AXIS.axis(n.attrs(), n.type().rank())),
                Attr.s("reduction", IndexingOps.REDUCTION.get(n.attrs()))));
    r.put(Op.ONE_HOT, IndexingLowerings::oneHot);
    r.put(Op.COSINE, IndexingLowerings::cosine);
    r.put(
        Op.TOPK,
        (cx, n, in, out) ->
            cx.node(
                "TopK",
                List.of(in.get(0), cx.i64s(IndexingOps.K.get(n.attrs()))),
                out,
                Attr.i("axis", IndexingOps.AXIS.get(n.attrs())),
                Attr.i("largest", 1),
                Attr.i("sorted", 1)));
    r.put(
        Op.CAST,
        (cx, n, in, out) ->
            cx.node("Cast", in, out, Attr.i("to", IndexingOps.TO.get(n.attrs()).onnxCode)));
    // NonZero gives [rank, count]; the mask is 1-D, so its one row is the positions
    r.put(
        Op.NONZERO,
        (cx, n, in, out) ->
            cx.node("Squeeze", List.of(cx.op("NonZero", in.get(0)), cx.i64s(0)), out));
    // ScatterND adds each update row at its index tuple (here one row index), in order
    r.put(
        Op.SCATTER_ADD,
        (cx, n, in, out) ->
            cx.node(
                "ScatterND",
                List.of(in.get(0), cx.op("Unsqueeze", in.get(1), cx.i64s(1)), in.get(2)),
                out,
                Attr.s("reduction", "add")));
  }

  /**
   * OneHot with depth n, values [0, 1] (f32), axis -1. ONNX wraps negative ids; the IR gives an
   * all-zero row for any id outside [0, n), so negative ids are first mapped to n. ORT only
   * implements int64 ids with an int64 depth and float values, so other id types are cast.
   */
  private static void oneHot(LoweringContext cx, Node n, List<String> in, List<String> out) {
    long depth = IndexingOps.N.get(n.attrs());
    String ids = in.get(0);
    if (cx.operandType(n, 0).dtype() != DType.I64) {
      ids = cx.op("Cast", List.of(ids), Attr.i("to", DType.I64.onnxCode));
    }
    String negative = cx.op("Less", ids, cx.i64(0));
    String safe = cx.op("Where", negative, cx.i64(depth), ids);
    cx.node("OneHot", List.of(safe, cx.i64(depth), cx.f32s(0f, 1f)), out, Attr.i("axis", -1));
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
    String axes = cx.i64s(IndexingOps.AXIS.get(n.attrs()));
    var keep0 = Attr.i("keepdims", 0);
    String dot = cx.op("ReduceSum", List.of(ab, axes), keep0);
    String na = cx.op("Sqrt", cx.op("ReduceSum", List.of(cx.op("Mul", a, a), axes), keep0));
    String nb = cx.op("Sqrt", cx.op("ReduceSum", List.of(cx.op("Mul", b, b), axes), keep0));
    String den = cx.op("Max", cx.op("Mul", na, nb), cx.scalar(1e-8, dt));
    cx.node("Div", List.of(dot, den), out);
  }
}
