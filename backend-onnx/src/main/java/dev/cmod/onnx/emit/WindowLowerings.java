package dev.cmod.onnx.emit;

import ai.onnx.proto.OnnxMl.AttributeProto;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.WindowGeometry;
import dev.cmod.ir.op.WindowOps;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Lowerings of the operators that slide or cut windows over the spatial axes: convolution,
 * transposed convolution, pooling, nearest upsampling and patchify. A node with only the plain
 * attributes (one stride, padding and kernel for every axis) is lowered from them; otherwise from
 * its full {@link WindowGeometry}.
 */
final class WindowLowerings {
  private WindowLowerings() {}

  static void register(LoweringTable.Registrar r) {
    r.put(Op.CONV1D, WindowLowerings::conv);
    r.put(Op.CONV2D, WindowLowerings::conv);
    r.put(Op.AVG_POOL2D, pool("AveragePool"));
    r.put(Op.MAX_POOL2D, pool("MaxPool"));
    r.put(Op.CONV_TRANSPOSE, WindowLowerings::convTranspose);
    r.put(Op.UPSAMPLE, WindowLowerings::upsample);
    r.put(Op.PATCHIFY, WindowLowerings::patchify);
  }

  private static OpLowering pool(String opType) {
    return (cx, n, in, out) -> {
      if (!WindowGeometry.isPlain(n.attrs())) {
        WindowGeometry g = WindowGeometry.of(n.attrs(), 2, true);
        List<AttributeProto> as =
            new ArrayList<>(
                List.of(
                    Attr.ints("kernel_shape", g.kernels()),
                    Attr.ints("strides", g.strides()),
                    Attr.ints("pads", g.pads())));
        if (opType.equals("AveragePool")) {
          as.add(Attr.i("count_include_pad", g.countIncludePad() ? 1 : 0));
        }
        cx.node(opType, in, out, as.toArray(new AttributeProto[0]));
        return;
      }
      long k = WindowOps.KERNEL.get(n.attrs());
      long s = WindowOps.POOL_STRIDE.get(n.attrs());
      cx.node(opType, in, out, Attr.ints("kernel_shape", k, k), Attr.ints("strides", s, s));
    };
  }

  /** ConvTranspose with every per-axis attribute explicit (the pads resolved at import). */
  private static void convTranspose(LoweringContext cx, Node n, List<String> in, List<String> out) {
    int sp = n.type().rank() - 2;
    var a = n.attrs();
    cx.node(
        "ConvTranspose",
        in,
        out,
        Attr.ints("strides", WindowOps.perAxis(WindowOps.STRIDES, a, sp, 1)),
        Attr.ints("pads", WindowOps.perAxis(WindowOps.PADS, a, 2 * sp, 0)),
        Attr.ints("dilations", WindowOps.perAxis(WindowOps.DILATIONS, a, sp, 1)),
        Attr.ints("output_padding", WindowOps.perAxis(WindowOps.OUTPUT_PADDING, a, sp, 0)),
        Attr.i("group", WindowOps.GROUPS.get(a)));
  }

  private static void conv(LoweringContext cx, Node n, List<String> in, List<String> out) {
    int spatial = n.op() == Op.CONV1D ? 1 : 2;
    if (!WindowGeometry.isPlain(n.attrs())) {
      WindowGeometry g = WindowGeometry.of(n.attrs(), spatial, false);
      cx.node(
          "Conv",
          in,
          out,
          Attr.ints("pads", g.pads()),
          Attr.ints("strides", g.strides()),
          Attr.ints("dilations", g.dilations()),
          Attr.i("group", g.groups()));
      return;
    }
    long s = WindowOps.STRIDE.get(n.attrs());
    long p = WindowOps.PADDING.get(n.attrs());
    long[] pads = new long[2 * spatial];
    Arrays.fill(pads, p);
    long[] strides = new long[spatial];
    Arrays.fill(strides, s);
    cx.node("Conv", in, out, Attr.ints("pads", pads), Attr.ints("strides", strides));
  }

  /** Nearest-neighbour upsampling of every axis from 2 on: out[i] = in[floor(i / f)]. */
  private static void upsample(LoweringContext cx, Node n, List<String> in, List<String> out) {
    int r = n.type().rank();
    float[] scales = new float[r];
    for (int i = 0; i < r; i++) {
      scales[i] = i < 2 ? 1f : WindowOps.FACTOR.get(n.attrs());
    }
    cx.node(
        "Resize",
        List.of(in.get(0), "", cx.f32s(scales)),
        out,
        Attr.s("mode", "nearest"),
        Attr.s("coordinate_transformation_mode", "asymmetric"),
        Attr.s("nearest_mode", "floor"));
  }

  /**
   * [..., C, H, W] -&gt; [..., C, H/p, p, W/p, p] -&gt; [..., H/p, W/p, C, p, p] -&gt; [...,
   * (H/p)*(W/p), C*p*p].
   */
  private static void patchify(LoweringContext cx, Node n, List<String> in, List<String> out) {
    TensorType x = cx.operandType(n, 0);
    int r = x.rank();
    int lead = r - 3;
    Dim p = Dim.of(WindowOps.PATCH.get(n.attrs()));
    List<Dim> split = new ArrayList<>(x.dims().subList(0, lead));
    split.addAll(List.of(x.dim(r - 3), x.dim(r - 2).div(p), p, x.dim(r - 1).div(p), p));
    String s = cx.op("Reshape", List.of(in.get(0), cx.shape(split)), Attr.i("allowzero", 1));
    long[] perm = new long[lead + 5];
    for (int i = 0; i < lead; i++) {
      perm[i] = i;
    }
    long[] tail = {1, 3, 0, 2, 4};
    for (int i = 0; i < 5; i++) {
      perm[lead + i] = lead + tail[i];
    }
    String t = cx.op("Transpose", List.of(s), Attr.ints("perm", perm));
    cx.node("Reshape", List.of(t, cx.shape(n.type().dims())), out, Attr.i("allowzero", 1));
  }
}
