package dev.cmod.onnx;

import static dev.cmod.onnx.TestSupport.uniform;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Conv and pooling with groups, per-axis strides, asymmetric pads and dilations: ORT against the
 * interpreter.
 */
class WindowLoweringTest {
  private static void check(CaseBuilder b) {
    Map<String, dev.cmod.ir.tensor.Tensor> got = TestSupport.runOrt(b.g, b.feeds);
    TestSupport.assertAllClose(TestSupport.reference(b.g, b.feeds), got, b.g.name());
  }

  @Test
  void depthwiseConvWithStrides() {
    CaseBuilder b = new CaseBuilder("depthwise", 1);
    Attrs a =
        Attrs.of(
            "stride",
            2,
            "padding",
            1,
            "strides",
            new long[] {2, 1},
            "pads",
            new long[] {1, 1, 1, 1},
            "dilations",
            new long[] {1, 1},
            "groups",
            4);
    check(
        b.out(
            "y",
            b.op(
                Op.CONV2D,
                a,
                b.in("x", uniform(b.rnd, -1, 1, 2, 4, 9, 7)),
                b.param("w", uniform(b.rnd, -1, 1, 4, 1, 3, 3)),
                b.param("b", uniform(b.rnd, -1, 1, 4)))));
  }

  @Test
  void groupedDilatedConvWithAsymmetricPads() {
    CaseBuilder b = new CaseBuilder("grouped", 2);
    Attrs a =
        Attrs.of(
            "stride",
            1,
            "padding",
            0,
            "strides",
            new long[] {1, 2},
            "pads",
            new long[] {0, 2, 1, 0},
            "dilations",
            new long[] {2, 1},
            "groups",
            2);
    check(
        b.out(
            "y",
            b.op(
                Op.CONV2D,
                a,
                b.in("x", uniform(b.rnd, -1, 1, 1, 4, 8, 8)),
                b.param("w", uniform(b.rnd, -1, 1, 6, 2, 3, 2)))));
  }

  @Test
  void dilatedConv1d() {
    CaseBuilder b = new CaseBuilder("conv1d", 3);
    Attrs a =
        Attrs.of("stride", 1, "padding", 0, "pads", new long[] {2, 1}, "dilations", new long[] {3});
    check(
        b.out(
            "y",
            b.op(
                Op.CONV1D,
                a,
                b.in("x", uniform(b.rnd, -1, 1, 2, 3, 12)),
                b.param("w", uniform(b.rnd, -1, 1, 5, 3, 3)))));
  }

  @Test
  void poolingWithPads() {
    for (Op op : new Op[] {Op.AVG_POOL2D, Op.MAX_POOL2D}) {
      for (boolean include : new boolean[] {false, true}) {
        CaseBuilder b = new CaseBuilder(op.text() + include, 4);
        Attrs a =
            Attrs.of(
                "kernel",
                3,
                "stride",
                2,
                "kernels",
                new long[] {3, 2},
                "strides",
                new long[] {2, 1},
                "pads",
                new long[] {1, 0, 1, 1},
                "count_include_pad",
                include);
        check(b.out("y", b.op(op, a, b.in("x", uniform(b.rnd, -1, 1, 2, 3, 7, 6)))));
      }
    }
  }
}
