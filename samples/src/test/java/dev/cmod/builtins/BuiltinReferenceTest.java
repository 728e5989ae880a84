package dev.cmod.builtins;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.E2E.Built;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A few builtins checked against values computed here with plain loops in double precision,
 * independently of the interpreter and of ONNX Runtime: matmul, softmax, layer_norm, gelu (both
 * forms), patchify and conv2d. Both ORT (-O0 and -O2) and the interpreter must match, at two sizes.
 */
class BuiltinReferenceTest {
  static final double RTOL = 1e-5;
  static final double ATOL = 1e-6;

  static final Map<String, Long> A = BuiltinCases.A;
  static final Map<String, Long> B = BuiltinCases.B;

  /**
   * Compiles at -O0 and -O2 and checks every run against {@code expected(inputs, params of the -O0
   * graph)}.
   */
  private static void check(
      String name, String source, String output, Function<Run, Tensor> expected) {
    Built o0 = E2E.compileText(source, E2E.opts(0));
    Built o2 = E2E.compileText(source, E2E.opts(2));
    int round = 0;
    for (Map<String, Long> sizes : List.of(A, B)) {
      Map<String, Tensor> in = E2E.inputs(o0, sizes, 101 + round++);
      Tensor want = expected.apply(new Run(in, o0));
      String at = name + " at " + new java.util.TreeMap<>(sizes);
      for (Built b : List.of(o0, o2)) {
        String level = b == o0 ? "-O0" : "-O2";
        E2E.assertClose(
            want, E2E.runOrt(b.onnx(), in).get(output), RTOL, ATOL, at + " ORT " + level);
        E2E.assertClose(
            want,
            E2E.runInterp(b.graph(), in).get(output),
            RTOL,
            ATOL,
            at + " interpreter " + level);
      }
    }
  }

  /** The inputs of one run and access to the parameter values of the compiled graph. */
  record Run(Map<String, Tensor> inputs, Built built) {
    Tensor in(String name) {
      return inputs.get(name);
    }

    Tensor param(String path) {
      for (Node n : built.graph().nodes()) {
        if (n.op() == Op.PARAM && path.equals(n.attrs().getString("path"))) {
          return n.attrs().getTensor("value");
        }
      }
      throw new AssertionError("no parameter " + path);
    }
  }

  static Tensor floats(long[] shape, double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return Tensor.ofFloats(shape, f);
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void matmul() {
    check(
        "matmul",
        "model T {\n  input a: f32[seq, 8]\n  input b: f32[8, 5]\n  output y: f32[seq, 5] = a @ b\n}\n",
        "y",
        r -> {
          Tensor a = r.in("a");
          Tensor b = r.in("b");
          int n = (int) a.dim(0);
          int s = (int) a.dim(1);
          int k = 8;
          int m = 5;
          float[] av = a.floats();
          float[] bv = b.floats();
          double[] y = new double[n * s * m];
          for (int bi = 0; bi < n; bi++) {
            for (int i = 0; i < s; i++) {
              for (int j = 0; j < m; j++) {
                double acc = 0;
                for (int c = 0; c < k; c++) {
                  acc += (double) av[(bi * s + i) * k + c] * bv[(bi * k + c) * m + j];
                }
                y[(bi * s + i) * m + j] = acc;
              }
            }
          }
          return floats(new long[] {n, s, m}, y);
        });
  }

  @Test
  void softmaxLastAxis() {
    check(
        "softmax",
        "model T {\n  input a: f32[seq, 8]\n  output y: f32[seq, 8] = softmax(a * 3.0)\n}\n",
        "y",
        r -> softmaxRef(r.in("a"), 3.0, false));
  }

  @Test
  void softmaxSequenceAxis() {
    check(
        "softmax axis 1",
        "model T {\n  input a: f32[seq, 8]\n  output y: f32[seq, 8] = softmax(a, axis = 1)\n}\n",
        "y",
        r -> softmaxRef(r.in("a"), 1.0, true));
  }

  /** Softmax of scale*a over the last axis, or over axis 1 of [n, s, d]. */
  static Tensor softmaxRef(Tensor a, double scale, boolean overSeq) {
    int n = (int) a.dim(0);
    int s = (int) a.dim(1);
    int d = (int) a.dim(2);
    float[] v = a.floats();
    double[] y = new double[v.length];
    int outer = overSeq ? n : n * s;
    int len = overSeq ? s : d;
    int inner = overSeq ? d : 1;
    for (int o = 0; o < outer; o++) {
      for (int in = 0; in < inner; in++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
          max = Math.max(max, scale * v[(o * len + i) * inner + in]);
        }
        double sum = 0;
        for (int i = 0; i < len; i++) {
          sum += Math.exp(scale * v[(o * len + i) * inner + in] - max);
        }
        for (int i = 0; i < len; i++) {
          int idx = (o * len + i) * inner + in;
          y[idx] = Math.exp(scale * v[idx] - max) / sum;
        }
      }
    }
    return floats(a.shape(), y);
  }

  @Test
  void layerNorm() {
    String src =
        "model T {\n  input a: f32[seq, 8]\n  param g: f32[8] = init.normal(1.0)\n  param bb: f32[8] = init.normal(1.0)\n"
            + "  output y: f32[seq, 8] = layer_norm(a * 2.0 + 1.0, g, bb)\n}\n";
    check(
        "layer_norm",
        src,
        "y",
        r -> {
          float[] x = r.in("a").floats();
          float[] g = r.param("g").floats();
          float[] b = r.param("bb").floats();
          int d = 8;
          double[] y = new double[x.length];
          for (int row = 0; row < x.length / d; row++) {
            double[] v = new double[d];
            double mean = 0;
            for (int j = 0; j < d; j++) {
              v[j] = (float) (x[row * d + j] * 2.0f + 1.0f);
              mean += v[j];
            }
            mean /= d;
            double var = 0;
            for (int j = 0; j < d; j++) {
              var += (v[j] - mean) * (v[j] - mean);
            }
            var /= d;
            for (int j = 0; j < d; j++) {
              y[row * d + j] = (v[j] - mean) / Math.sqrt(var + 1e-5) * g[j] + b[j];
            }
          }
          return floats(r.in("a").shape(), y);
        });
  }

  @Test
  void geluExact() {
    check(
        "gelu",
        "model T {\n  input a: f32[seq, 8]\n  output y: f32[seq, 8] = gelu(a * 2.0)\n}\n",
        "y",
        r -> ofTwiceA(r, v -> 0.5 * v * (1 + erf(v / Math.sqrt(2)))));
  }

  @Test
  void geluTanh() {
    check(
        "gelu tanh",
        "model T {\n  input a: f32[seq, 8]\n  output y: f32[seq, 8] = gelu(a * 2.0, approx = \"tanh\")\n}\n",
        "y",
        r ->
            ofTwiceA(
                r,
                v ->
                    0.5
                        * v
                        * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))));
  }

  /** f(2a) elementwise for the input a (2a rounded to f32 first, as the model computes it). */
  static Tensor ofTwiceA(Run r, DoubleUnaryOperator f) {
    float[] x = r.in("a").floats();
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = f.applyAsDouble(x[i] * 2.0f);
    }
    return floats(r.in("a").shape(), y);
  }

  /**
   * erf by its Maclaurin series (|x| <= 4, accurate to ~1e-9 in double), and +-1 beyond (erfc(4) <
   * 2e-8).
   */
  static double erf(double x) {
    if (Math.abs(x) > 4) {
      return Math.signum(x);
    }
    double sum = 0;
    double term = x; // (-1)^n x^(2n+1) / n!
    for (int n = 0; n < 200; n++) {
      double t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17) {
        break;
      }
      term = -term * x * x / (n + 1);
    }
    return 2 / Math.sqrt(Math.PI) * sum;
  }

  @Test
  void erfReferenceIsAccurate() {
    // erf(0.5) and erf(1) from tables
    org.junit.jupiter.api.Assertions.assertEquals(0.5204998778130465, erf(0.5), 1e-12);
    org.junit.jupiter.api.Assertions.assertEquals(0.8427007929497149, erf(1.0), 1e-12);
    org.junit.jupiter.api.Assertions.assertEquals(-0.9953222650189527, erf(-2.0), 1e-12);
  }

  @Test
  void patchify() {
    String src = "model T {\n  input x: f32[3, height, width]\n  output y = patchify(x, 2)\n}\n";
    check(
        "patchify",
        src,
        "y",
        r -> {
          Tensor x = r.in("x");
          int n = (int) x.dim(0);
          int c = (int) x.dim(1);
          int h = (int) x.dim(2);
          int w = (int) x.dim(3);
          int p = 2;
          int ph = h / p;
          int pw = w / p;
          float[] v = x.floats();
          double[] y = new double[n * ph * pw * c * p * p];
          int feat = c * p * p;
          for (int b = 0; b < n; b++) {
            for (int py = 0; py < ph; py++) {
              for (int px = 0; px < pw; px++) {
                int patch = py * pw + px; // row-major patches
                for (int ch = 0; ch < c; ch++) {
                  for (int i = 0; i < p; i++) {
                    for (int j = 0; j < p; j++) {
                      int f = ch * p * p + i * p + j; // channel-major inside a patch
                      y[(b * ph * pw + patch) * feat + f] =
                          v[((b * c + ch) * h + py * p + i) * w + px * p + j];
                    }
                  }
                }
              }
            }
          }
          return floats(new long[] {n, (long) ph * pw, feat}, y);
        });
  }

  @Test
  void conv2dWithStrideAndPadding() {
    String src =
        "model T {\n  input x: f32[3, height, width]\n  param kw: f32[4, 3, 3, 3] = init.normal(0.5)\n"
            + "  param kb: f32[4] = init.normal(1.0)\n  output y = conv2d(x, kw, kb, stride = 2, padding = 1)\n}\n";
    check("conv2d", src, "y", r -> conv2dRef(r.in("x"), r.param("kw"), r.param("kb"), 2, 1));
  }

  @Test
  void conv2dPlain() {
    String src =
        "model T {\n  input x: f32[3, height, width]\n  param kw: f32[2, 3, 2, 3] = init.normal(0.5)\n"
            + "  output y = conv2d(x, kw)\n}\n";
    check("conv2d plain", src, "y", r -> conv2dRef(r.in("x"), r.param("kw"), null, 1, 0));
  }

  static Tensor conv2dRef(Tensor x, Tensor wt, Tensor bias, int stride, int pad) {
    int n = (int) x.dim(0);
    int c = (int) x.dim(1);
    int h = (int) x.dim(2);
    int w = (int) x.dim(3);
    int o = (int) wt.dim(0);
    int kh = (int) wt.dim(2);
    int kw = (int) wt.dim(3);
    int oh = (h + 2 * pad - kh) / stride + 1;
    int ow = (w + 2 * pad - kw) / stride + 1;
    float[] xv = x.floats();
    float[] wv = wt.floats();
    float[] bv = bias == null ? null : bias.floats();
    double[] y = new double[n * o * oh * ow];
    for (int b = 0; b < n; b++) {
      for (int oc = 0; oc < o; oc++) {
        for (int i = 0; i < oh; i++) {
          for (int j = 0; j < ow; j++) {
            double acc = bv == null ? 0 : bv[oc];
            for (int ic = 0; ic < c; ic++) {
              for (int u = 0; u < kh; u++) {
                for (int v = 0; v < kw; v++) {
                  int yy = i * stride - pad + u;
                  int xx = j * stride - pad + v;
                  if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                    acc +=
                        (double) xv[((b * c + ic) * h + yy) * w + xx]
                            * wv[((oc * c + ic) * kh + u) * kw + v];
                  }
                }
              }
            }
            y[((b * o + oc) * oh + i) * ow + j] = acc;
          }
        }
      }
    }
    return floats(new long[] {n, o, oh, ow}, y);
  }

  /**
   * Harness sanity: a reference that is slightly wrong (softmax without the 3x scale) must be
   * caught.
   */
  @Test
  void aWrongReferenceIsCaught() {
    assertThrows(
        AssertionError.class,
        () ->
            check(
                "softmax (wrong scale)",
                "model T {\n  input a: f32[seq, 8]\n  output y: f32[seq, 8] = softmax(a * 3.0)\n}\n",
                "y",
                r -> softmaxRef(r.in("a"), 2.9, false)));
  }

  /** Harness sanity: a transposed patch layout (pixel-major inside a patch) must be caught. */
  @Test
  void aWrongLayoutIsCaught() {
    Built b =
        E2E.compileText(
            "model T {\n  input x: f32[3, height, width]\n  output y = patchify(x, 2)\n}\n",
            E2E.opts(2));
    Map<String, Tensor> in = E2E.inputs(b, A, 5);
    Tensor got = E2E.runOrt(b.onnx(), in).get("y");
    float[] g = got.floats();
    float[] swapped = new float[g.length];
    int feat = 12;
    for (int r = 0; r < g.length / feat; r++) {
      for (int ch = 0; ch < 3; ch++) {
        for (int k = 0; k < 4; k++) {
          swapped[r * feat + k * 3 + ch] = g[r * feat + ch * 4 + k];
        }
      }
    }
    assertArrayEquals(got.shape(), new long[] {2, 6, 12});
    assertThrows(
        AssertionError.class,
        () -> E2E.assertClose(got, Tensor.ofFloats(got.shape(), swapped), RTOL, ATOL, "swapped"));
  }
}
