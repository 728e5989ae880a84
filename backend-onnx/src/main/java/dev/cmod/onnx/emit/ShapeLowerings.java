package dev.cmod.onnx.emit;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.ShapeOps;
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
                List.of(in.get(0), cx.shape(ShapeOps.DIMS.get(n.attrs()))),
                out,
                Attr.i("allowzero", 1)));
    r.put(
        Op.TRANSPOSE,
        (cx, n, in, out) ->
            cx.node("Transpose", in, out, Attr.ints("perm", ShapeOps.PERM.get(n.attrs()))));
    r.put(
        Op.CONCAT,
        (cx, n, in, out) ->
            cx.node("Concat", in, out, Attr.i("axis", ShapeOps.AXIS_LAST.get(n.attrs()))));
    r.put(
        Op.SPLIT,
        (cx, n, in, out) ->
            cx.node(
                "Split",
                List.of(in.get(0), cx.shape(ShapeOps.SIZES.get(n.attrs()))),
                out,
                Attr.i("axis", ShapeOps.AXIS_LAST.get(n.attrs()))));
    r.put(
        Op.SLICE,
        (cx, n, in, out) ->
            cx.node(
                "Slice",
                List.of(
                    in.get(0),
                    cx.dim(ShapeOps.START.get(n.attrs())),
                    cx.dim(ShapeOps.END.get(n.attrs())),
                    cx.i64s(ShapeOps.AXIS.get(n.attrs()))),
                out));
    r.put(
        Op.UNSQUEEZE,
        (cx, n, in, out) ->
            cx.node("Unsqueeze", List.of(in.get(0), cx.i64s(ShapeOps.AXIS.get(n.attrs()))), out));
    r.put(
        Op.SQUEEZE,
        (cx, n, in, out) ->
            cx.node("Squeeze", List.of(in.get(0), cx.i64s(ShapeOps.AXIS.get(n.attrs()))), out));
    r.put(
        Op.BROADCAST,
        (cx, n, in, out) ->
            cx.node("Expand", List.of(in.get(0), cx.shape(ShapeOps.DIMS.get(n.attrs()))), out));
  }
}
