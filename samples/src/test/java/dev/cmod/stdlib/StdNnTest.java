package dev.cmod.stdlib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Each std.nn module: compiled inside a small model, run on ONNX Runtime, compared with the
 * reference interpreter and with values computed here by plain loops from the same parameters.
 */
class StdNnTest {
  private static final double TOL = 1e-4;

  private static E2E.Built build(String imports, String body) {
    return E2E.compileText(
        "import std.nn.{" + imports + "}\nmodel M {\n" + body + "\n}\n", E2E.opts(0));
  }

  private static Map<String, Tensor> params(E2E.Built b) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (Node n : b.graph().nodes()) {
      if (n.op() == Op.PARAM) {
        m.put(n.attrs().getString("path"), n.attrs().getTensor("value"));
      }
    }
    return m;
  }

  private static double[] vec(Tensor t) {
    double[] v = new double[t.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = t.get(i);
    }
    return v;
  }

  /**
   * A 2-D tensor (or the rows of row {@code r0} onward of a flattened one) as double[rows][cols].
   */
  private static double[][] mat(Tensor t, int rows, int cols, int offset) {
    double[][] m = new double[rows][cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        m[i][j] = t.get(offset + i * cols + j);
      }
    }
    return m;
  }

  private static double[][] mat(Tensor t) {
    long[] s = t.shape();
    return mat(t, (int) s[0], (int) s[1], 0);
  }

  private static void assertRows(double[][] expected, Tensor actual, int offset, String what) {
    int cols = expected[0].length;
    for (int i = 0; i < expected.length; i++) {
      for (int j = 0; j < cols; j++) {
        double a = actual.get(offset + i * cols + j);
        double e = expected[i][j];
        assertTrue(
            Math.abs(a - e) <= TOL * (1 + Math.abs(e)),
            what + " [" + i + "][" + j + "]: expected " + e + " got " + a);
      }
    }
  }

  /** Runs with batch 2 and seq 5; checks ORT == interpreter; returns inputs and outputs. */
  private static Map<String, Tensor>[] run(E2E.Built b) {
    Map<String, Long> sizes = Map.of("batch", 2L, "seq", 5L);
    Map<String, Tensor> in = E2E.inputs(b, sizes, 3);
    Map<String, Tensor> out = E2E.assertOrtMatchesInterpreter(b, in, 1e-5, 1e-6);
    @SuppressWarnings("unchecked")
    Map<String, Tensor>[] r = new Map[] {in, out};
    return r;
  }

  @Test
  void linear() {
    E2E.Built b =
        build("Linear", "input x: f32[seq, 6]\nlet l = Linear(6, 5)\noutput y: f32[seq, 5] = l(x)");
    Map<String, Tensor>[] io = run(b);
    Map<String, Tensor> p = params(b);
    for (int bi = 0; bi < 2; bi++) {
      double[][] x = mat(io[0].get("x"), 5, 6, bi * 30);
      assertRows(
          Ref.linear(x, mat(p.get("l.weight")), vec(p.get("l.bias"))),
          io[1].get("y"),
          bi * 25,
          "linear");
    }
  }

  @Test
  void linearWithoutBias() {
    E2E.Built b =
        build("Linear", "input x: f32[6]\noutput y: f32[5] = x |> Linear(6, 5, use_bias = false)");
    assertEquals(1, params(b).size(), "only Linear_0.weight");
    Map<String, Tensor>[] io = run(b);
    double[][] x = mat(io[0].get("x"), 2, 6, 0);
    assertRows(
        Ref.linear(x, mat(params(b).get("Linear_0.weight")), null),
        io[1].get("y"),
        0,
        "linear no bias");
  }

  @Test
  void embedding() {
    E2E.Built b =
        build(
            "Embedding",
            "input ids: Text[seq] vocab 20\nlet e = Embedding(20, 8)\noutput y: f32[seq, 8] = e(ids)");
    Map<String, Tensor>[] io = run(b);
    Tensor table = params(b).get("e.table");
    Tensor ids = io[0].get("ids");
    Tensor y = io[1].get("y");
    for (int i = 0; i < ids.size(); i++) {
      for (int j = 0; j < 8; j++) {
        assertEquals(table.get((int) ids.get(i) * 8 + j), y.get(i * 8 + j), 0.0);
      }
    }
  }

  @Test
  void layerNormAndRmsNorm() {
    E2E.Built b =
        build(
            "LayerNorm, RMSNorm",
            "input x: f32[seq, 8]\nlet ln = LayerNorm(8)\nlet rn = RMSNorm(8, eps = 1e-5)\n"
                + "output a: f32[seq, 8] = ln(x * 3.0 + 1.0)\noutput r: f32[seq, 8] = rn(x)");
    Map<String, Tensor>[] io = run(b);
    Map<String, Tensor> p = params(b);
    double[][] x = mat(io[0].get("x"), 10, 8, 0);
    double[][] x3 = new double[10][8];
    for (int i = 0; i < 10; i++) {
      for (int j = 0; j < 8; j++) {
        x3[i][j] = (float) ((float) x[i][j] * 3.0f + 1.0f);
      }
    }
    assertRows(
        Ref.layerNorm(x3, vec(p.get("ln.gamma")), vec(p.get("ln.beta")), 1e-5),
        io[1].get("a"),
        0,
        "layer norm");
    assertRows(Ref.rmsNorm(x, vec(p.get("rn.gamma")), 1e-5), io[1].get("r"), 0, "rms norm");
  }

  @Test
  void mlp() {
    E2E.Built b =
        build("Mlp", "input x: f32[seq, 8]\nlet m = Mlp(8, 16)\noutput y: f32[seq, 8] = m(x)");
    Map<String, Tensor>[] io = run(b);
    Map<String, Tensor> p = params(b);
    double[][] x = mat(io[0].get("x"), 10, 8, 0);
    double[][] h = Ref.gelu(Ref.linear(x, mat(p.get("m.up.weight")), vec(p.get("m.up.bias"))));
    assertRows(
        Ref.linear(h, mat(p.get("m.down.weight")), vec(p.get("m.down.bias"))),
        io[1].get("y"),
        0,
        "mlp");
  }

  private static double[][][] projW(Map<String, Tensor> p, String prefix) {
    String[] n = {"q", "k", "v", "o"};
    double[][][] w = new double[4][][];
    for (int i = 0; i < 4; i++) {
      w[i] = mat(p.get(prefix + n[i] + ".weight"));
    }
    return w;
  }

  private static double[][] projB(Map<String, Tensor> p, String prefix) {
    String[] n = {"q", "k", "v", "o"};
    double[][] b = new double[4][];
    for (int i = 0; i < 4; i++) {
      b[i] = vec(p.get(prefix + n[i] + ".bias"));
    }
    return b;
  }

  @Test
  void multiHeadAttention() {
    for (boolean causal : new boolean[] {false, true}) {
      E2E.Built b =
          build(
              "MultiHeadAttention",
              "input x: f32[seq, 8]\nlet att = MultiHeadAttention(8, 2, causal = "
                  + causal
                  + ")\noutput y: f32[seq, 8] = att(x)");
      Map<String, Tensor>[] io = run(b);
      Map<String, Tensor> p = params(b);
      for (int bi = 0; bi < 2; bi++) {
        double[][] x = mat(io[0].get("x"), 5, 8, bi * 40);
        assertRows(
            Ref.mha(x, projW(p, "att."), projB(p, "att."), 2, causal),
            io[1].get("y"),
            bi * 40,
            "mha causal=" + causal);
      }
    }
  }

  @Test
  void transformerBlock() {
    E2E.Built b =
        build(
            "TransformerBlock",
            "input x: f32[seq, 8]\nlet blk = TransformerBlock(8, 2, 16, causal = true)\n"
                + "output y: f32[seq, 8] = blk(x)");
    Map<String, Tensor>[] io = run(b);
    Map<String, Tensor> p = params(b);
    for (int bi = 0; bi < 2; bi++) {
      double[][] x = mat(io[0].get("x"), 5, 8, bi * 40);
      double[][] a =
          Ref.mha(
              Ref.layerNorm(x, vec(p.get("blk.ln1.gamma")), vec(p.get("blk.ln1.beta")), 1e-5),
              projW(p, "blk.attn."),
              projB(p, "blk.attn."),
              2,
              true);
      double[][] h = Ref.add(x, a);
      double[][] n2 =
          Ref.layerNorm(h, vec(p.get("blk.ln2.gamma")), vec(p.get("blk.ln2.beta")), 1e-5);
      double[][] f =
          Ref.linear(
              Ref.gelu(
                  Ref.linear(n2, mat(p.get("blk.ffn.up.weight")), vec(p.get("blk.ffn.up.bias")))),
              mat(p.get("blk.ffn.down.weight")),
              vec(p.get("blk.ffn.down.bias")));
      assertRows(Ref.add(h, f), io[1].get("y"), bi * 40, "transformer block");
    }
  }

  @Test
  void conv2d() {
    E2E.Built b =
        build(
            "Conv2d",
            "input img: Image[3, 9, 9]\nlet c = Conv2d(3, 4, 3, stride = 2, padding = 1)\n"
                + "output y: f32[4, 5, 5] = c(img)");
    Map<String, Tensor>[] io = run(b);
    Map<String, Tensor> p = params(b);
    Tensor x = io[0].get("img");
    Tensor w = p.get("c.weight");
    Tensor bias = p.get("c.bias");
    Tensor y = io[1].get("y");
    for (int n = 0; n < 2; n++) {
      for (int o = 0; o < 4; o++) {
        for (int r = 0; r < 5; r++) {
          for (int c = 0; c < 5; c++) {
            double s = bias.get(o);
            for (int ci = 0; ci < 3; ci++) {
              for (int kr = 0; kr < 3; kr++) {
                for (int kc = 0; kc < 3; kc++) {
                  int ir = r * 2 - 1 + kr;
                  int ic = c * 2 - 1 + kc;
                  if (ir >= 0 && ir < 9 && ic >= 0 && ic < 9) {
                    s +=
                        x.get(((n * 3 + ci) * 9 + ir) * 9 + ic)
                            * w.get(((o * 3 + ci) * 3 + kr) * 3 + kc);
                  }
                }
              }
            }
            double a = y.get(((n * 4 + o) * 5 + r) * 5 + c);
            assertEquals(
                s, a, TOL * (1 + Math.abs(s)), "conv at " + n + "," + o + "," + r + "," + c);
          }
        }
      }
    }
  }

  @Test
  void patchEmbed() {
    E2E.Built b =
        build(
            "PatchEmbed",
            "input img: Image[3, 8, 8]\nlet pe = PatchEmbed(3, 4, 6)\noutput y: f32[4, 6] = pe(img)");
    Map<String, Tensor>[] io = run(b);
    Map<String, Tensor> p = params(b);
    Tensor x = io[0].get("img");
    double[][] w = mat(p.get("pe.proj.weight"));
    double[] bias = vec(p.get("pe.proj.bias"));
    for (int n = 0; n < 2; n++) {
      double[][] patches = new double[4][48];
      for (int pr = 0; pr < 2; pr++) {
        for (int pc = 0; pc < 2; pc++) {
          for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 4; i++) {
              for (int j = 0; j < 4; j++) {
                patches[pr * 2 + pc][c * 16 + i * 4 + j] =
                    x.get(((n * 3 + c) * 8 + pr * 4 + i) * 8 + pc * 4 + j);
              }
            }
          }
        }
      }
      assertRows(Ref.linear(patches, w, bias), io[1].get("y"), n * 24, "patch embed");
    }
  }
}
