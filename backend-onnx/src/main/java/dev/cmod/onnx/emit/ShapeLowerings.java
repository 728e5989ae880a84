package dev.cmod.onnx.emit;

import dev.cmod.ir.graph.Op;
import java.util.List;

/**
 * Lowerings of the shape operators. Their static (possibly symbolic) dims become 1-D int64 inputs
 * through {@link LoweringContext#shape} and {@link LoweringContext#dim}: constants when known,
 * computed at run time from the inputs' shapes when symbolic.
 */
final class ShapeLowerings {
  private ShapeLowerings() {}

  static void register(LoweringTable.Registrar r) {
    r.put(
        Op.RESHAPE,
        (cx, n, in, out) ->
            cx.node(
                "Reshape",
                List.of(in.get(0), cx.shape(n.attrs().getDims("dims"))),
                out,
                Attr.i("allowzero", 1)));
    r.put(
        Op.TRANSPOSE,
        (cx, n, in, out) ->
            cx.node("Transpose", in, out, Attr.ints("perm", n.attrs().getLongs("perm"))));
    r.put(
        Op.CONCAT,
        (cx, n, in, out) -> cx.node("Concat", in, out, Attr.i("axis", n.attrs().getLong("axis"))));
    r.put(
        Op.SPLIT,
        (cx, n, in, out) ->
            cx.node(
                "Split",
                List.of(in.get(0), cx.shape(n.attrs().getDims("sizes"))),
                out,
                Attr.i("axis", n.attrs().getLong("axis"))));
    r.put(
        Op.SLICE,
        (cx, n, in, out) ->
            cx.node(
                "Slice",
                List.of(
                    in.get(0),
                    cx.dim(n.attrs().getDim("start")),
                    cx.dim(n.attrs().getDim("end")),
                    cx.i64s(n.attrs().getLong("axis"))),
                out));
    r.put(
        Op.UNSQUEEZE,
        (cx, n, in, out) ->
            cx.node("Unsqueeze", List.of(in.get(0), cx.i64s(n.attrs().getLong("axis"))), out));
    r.put(
        Op.SQUEEZE,
        (cx, n, in, out) ->
            cx.node("Squeeze", List.of(in.get(0), cx.i64s(n.attrs().getLong("axis"))), out));
    r.put(
        Op.BROADCAST,
        (cx, n, in, out) ->
            cx.node("Expand", List.of(in.get(0), cx.shape(n.attrs().getDims("dims"))), out));
  }
}
