package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.T.close;
import static dev.cmod.ir.interp.T.f;
import static dev.cmod.ir.interp.T.ramp;
import static dev.cmod.ir.interp.T.run;
import static dev.cmod.ir.interp.T.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.graph.ShapeInference;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Convolution with groups, per-axis strides, asymmetric pads and dilations; pooling with pads. */
class WindowGeometryTest {
  private static Tensor random(Random r, long... shape) {
    float[] v = new float[(int) Tensor.numel(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextFloat() * 2 - 1;
    }
    return Tensor.ofFloats(shape, v);
  }

  /** The part [from, from + n) of axis 1. */
  private static Tensor channels(Tensor t, int from, int n) {
    return ShapeKernels.narrow(t, 1, from, n);
  }

  @Test
  void groupedConvIsAConvPerGroup() {
    Random r = new Random(3);
    Tensor x = random(r, 2, 4, 7, 6);
    Tensor w = random(r, 6, 2, 3, 3); // 2 groups: 2 input channels -> 3 output channels each
    Tensor b = random(r, 6);
    Attrs a =
        Attrs.of(
            "stride",
            1,
            "padding",
            0,
            "strides",
            new long[] {2, 1},
            "pads",
            new long[] {1, 0, 2, 1},
            "dilations",
            new long[] {1, 1},
            "groups",
            2);
    Tensor got = run(Op.CONV2D, a, x, w, b);
    // H: (7 + 1 + 2 - 3) / 2 + 1 = 4; W: (6 + 0 + 1 - 3) / 1 + 1 = 5
    assertEquals(List.of(2L, 6L, 4L, 5L), List.of(got.dim(0), got.dim(1), got.dim(2), got.dim(3)));
    for (int grp = 0; grp < 2; grp++) {
      Attrs plain =
          Attrs.of(
              "stride",
              1,
              "padding",
              0,
              "strides",
              new long[] {2, 1},
              "pads",
              new long[] {1, 0, 2, 1});
      // weights of this group: rows 3*grp .. 3*grp+2
      Tensor wg = ShapeKernels.narrow(w, 0, 3 * grp, 3);
      Tensor bg = ShapeKernels.narrow(b, 0, 3 * grp, 3);
      Tensor want = run(Op.CONV2D, plain, channels(x, 2 * grp, 2), wg, bg);
      Tensor part = channels(got, 3 * grp, 3);
      close(want.shape(), want.floats(), part, 1e-6);
    }
  }

  @Test
  void depthwiseConvByHand() {
    // 2 channels, 1x3 kernels, groups = 2, pad 1 on the width only
    Tensor x = f(s(1, 2, 1, 3), 1, 2, 3, 10, 20, 30);
    Tensor w = f(s(2, 1, 1, 3), 1, 1, 1, 0, 1, 0);
    Attrs a = Attrs.of("stride", 1, "padding", 0, "pads", new long[] {0, 1, 0, 1}, "groups", 2);
    close(s(1, 2, 1, 3), new float[] {3, 6, 5, 10, 20, 30}, run(Op.CONV2D, a, x, w), 0);
  }

  @Test
  void dilatedConv1d() {
    Tensor x = f(s(1, 1, 5), 1, 2, 3, 4, 5);
    Tensor w = f(s(1, 1, 2), 1, -1);
    // dilation 2: out[i] = x[i] - x[i + 2]
    Attrs a = Attrs.of("stride", 1, "padding", 0, "dilations", new long[] {2});
    close(s(1, 1, 3), new float[] {-2, -2, -2}, run(Op.CONV1D, a, x, w), 0);
  }

  @Test
  void plainAttributesKeepTheirMeaning() {
    Tensor x = ramp(1, 2, 5, 5);
    Tensor w = random(new Random(1), 3, 2, 3, 3);
    Tensor plain = run(Op.CONV2D, Attrs.of("stride", 2, "padding", 1), x, w);
    Tensor general = run(Op.CONV2D, Attrs.of("stride", 2, "padding", 1, "groups", 1), x, w);
    close(plain.shape(), plain.floats(), general, 1e-6);
  }

  @Test
  void shapeRulesForGroupsAndStrides() {
    TensorType x =
        new TensorType(DType.F32, List.of(Dim.sym("N"), Dim.of(8), Dim.of(48), Dim.of(192)));
    TensorType w = TensorType.of(DType.F32, 8, 1, 3, 3);
    Attrs a =
        Attrs.of(
            "stride",
            1,
            "padding",
            1,
            "strides",
            new long[] {2, 1},
            "pads",
            new long[] {1, 1, 1, 1},
            "groups",
            8);
    assertEquals(
        new TensorType(DType.F32, List.of(Dim.sym("N"), Dim.of(8), Dim.of(24), Dim.of(192))),
        ShapeInference.infer(Op.CONV2D, a, List.of(x, w)).get(0));
    // 8 channels do not fit a weight of 2 input channels per group with 8 groups
    assertThrows(
        ShapeException.class,
        () -> ShapeInference.infer(Op.CONV2D, a, List.of(x, TensorType.of(DType.F32, 8, 2, 3, 3))));
    assertThrows(
        ShapeException.class,
        () ->
            ShapeInference.infer(
                Op.CONV2D, a.with("groups", 3L), List.of(x, TensorType.of(DType.F32, 8, 1, 3, 3))));
  }

  @Test
  void poolingWithPadsSkipsPaddedCells() {
    Tensor x = f(s(1, 1, 2, 2), 1, 2, 3, 4);
    Attrs a =
        Attrs.of(
            "kernel",
            2,
            "stride",
            1,
            "kernels",
            new long[] {2, 2},
            "strides",
            new long[] {1, 1},
            "pads",
            new long[] {1, 1, 0, 0});
    // windows at (-1,-1), (-1,0), (0,-1), (0,0)
    close(s(1, 1, 2, 2), new float[] {1, 1.5f, 2, 2.5f}, run(Op.AVG_POOL2D, a, x), 1e-6);
    close(
        s(1, 1, 2, 2),
        new float[] {0.25f, 0.75f, 1, 2.5f},
        run(Op.AVG_POOL2D, a.with("count_include_pad", true), x),
        1e-6);
    close(s(1, 1, 2, 2), new float[] {1, 2, 3, 4}, run(Op.MAX_POOL2D, a, x), 0);
    Attrs rect =
        Attrs.of(
            "kernel", 1, "stride", 1, "kernels", new long[] {1, 2}, "strides", new long[] {1, 2});
    close(s(1, 1, 2, 1), new float[] {2, 4}, run(Op.MAX_POOL2D, rect, x), 0);
  }
}
