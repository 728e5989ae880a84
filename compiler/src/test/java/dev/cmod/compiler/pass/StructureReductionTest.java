package dev.cmod.compiler.pass;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.Cost;
import dev.cmod.compiler.TestStdlib;
import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Severity;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Structure reduction for the {@code tokens} budget: an attention over more keys than the budget
 * pools its keys and values (windows of ceil(tokens / budget), the last one partial), with a
 * warning and an explain line; {@code budget strict} keeps the error; the cost of the reduced model
 * grows linearly with the sequence bound. Values against a reference written here.
 */
class StructureReductionTest {
  private static final String ATTEND =
      """
      model M {
        budget { tokens <= 4 }
        input x: f32[seq, 8] where seq <= 10
        output y: f32[seq, 8] = attention(x, x, x)
      }
      """;

  private static Compilation.Result compile(String src, int level) {
    TestStdlib.ensure();
    return Compilation.compile(
        new SourceFile("reduce.cmod", src), null, CompileOptions.defaults().withOptLevel(level));
  }

  /**
   * 10 keys over a budget of 4: windows of 3 (the fourth holds one position); a warning says so.
   */
  @Test
  void keysAndValuesArePooledWithAWarning() {
    for (int level : new int[] {0, 2}) {
      Compilation.Result r = compile(ATTEND, level);
      assertTrue(r.ok(), r.diagnostics().all().toString());
      List<Diagnostic> warnings =
          r.diagnostics().all().stream().filter(d -> d.severity() == Severity.WARNING).toList();
      assertEquals(1, warnings.size(), warnings.toString());
      assertEquals(DiagnosticCode.STRUCTURE_REDUCED, warnings.get(0).code());
      String line =
          "attention at reduce.cmod:4:27 over up to 10 tokens: keys and values average-pooled in"
              + " windows of 3 to 4 tokens (budget tokens <= 4)";
      assertEquals(line, warnings.get(0).message());
      assertEquals(List.of(line), r.facts().reductions());
      assertEquals(4, Cost.attentionTokens(r.graph(), r.facts()));
      for (int seq : new int[] {10, 7, 1}) {
        Tensor x = random(seq);
        Tensor got = Interpreter.run(r.graph(), Map.of("x", x)).get("y");
        float[] want = reference(x.floats(), seq, 8, 3);
        for (int i = 0; i < want.length; i++) {
          assertEquals(want[i], got.floats()[i], 1e-5, "seq " + seq + " element " + i);
        }
      }
    }
  }

  /** A strict budget is only checked: the same model is the budget error, nothing is pooled. */
  @Test
  void strictBudgetIsAnError() {
    Compilation.Result r = compile(ATTEND.replace("budget {", "budget strict {"), 0);
    assertFalse(r.ok());
    Diagnostic d = r.diagnostics().all().get(0);
    assertEquals(DiagnosticCode.BUDGET, d.code());
    assertEquals("model M attends over up to 10 tokens, over its budget of 4", d.message());
    assertTrue(d.help().contains("a strict budget is never met by pooling"), d.help());
    // and `strict` stays usable as a name
    assertTrue(
        compile(
                "model N {\n  input x: f32[4]\n  let strict = 2\n  output y: f32[4] = x * strict\n}\n",
                0)
            .ok());
  }

  /**
   * With the budget fixed, doubling the sequence bound doubles the cost (it quadruples without the
   * budget): the attention costs queries x budget.
   */
  @Test
  void costGrowsLinearlyWithTheSequence() {
    String block =
        """
        import std.nn.{TransformerBlock}
        model M {
          BUDGET
          input x: Seq[seq, 32] where seq <= N
          output y: f32[seq, 32] = x |> TransformerBlock(32, 4)
        }
        """;
    double[] reduced = new double[4];
    double[] dense = new double[4];
    for (int i = 0; i < 4; i++) {
      String n = Long.toString(256L << i);
      Compilation.Result r =
          compile(block.replace("BUDGET", "budget { tokens <= 64 }").replace("N", n), 2);
      Compilation.Result d = compile(block.replace("BUDGET", "").replace("N", n), 2);
      assertTrue(r.ok() && d.ok(), r.diagnostics().all() + " " + d.diagnostics().all());
      reduced[i] = Cost.flops(r.graph(), r.facts());
      dense[i] = Cost.flops(d.graph(), d.facts());
    }
    for (int i = 1; i < 4; i++) {
      double ratio = reduced[i] / reduced[i - 1];
      assertTrue(ratio > 1.9 && ratio < 2.1, "reduced cost x" + ratio + " per doubling");
      assertTrue(dense[i] / dense[i - 1] > 2.5, "dense cost x" + dense[i] / dense[i - 1]);
    }
  }

  /** Causal attention is not pooled (a summary would mix visible and future positions). */
  @Test
  void causalAttentionIsLeftToTheBudgetCheck() {
    Compilation.Result r = compile(ATTEND.replace("x, x, x)", "x, x, x, causal = true)"), 0);
    assertFalse(r.ok());
    assertEquals(DiagnosticCode.BUDGET, r.diagnostics().all().get(0).code());
    assertTrue(r.diagnostics().all().get(0).help().contains("causal or masked"));
  }

  private static Tensor random(int seq) {
    Random rnd = new Random(seq);
    float[] f = new float[2 * seq * 8];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) rnd.nextGaussian();
    }
    return Tensor.ofFloats(new long[] {2, seq, 8}, f);
  }

  /**
   * softmax(q kᵀ / √e) v with k = v = x pooled over windows of p positions (the mean of the
   * positions each window has), q = x; batch-major [b, seq, e].
   */
  private static float[] reference(float[] x, int seq, int e, int p) {
    int b = x.length / (seq * e);
    int w = (seq + p - 1) / p;
    float[] out = new float[x.length];
    for (int n = 0; n < b; n++) {
      double[][] kv = new double[w][e];
      for (int j = 0; j < w; j++) {
        int from = j * p;
        int to = Math.min(seq, from + p);
        for (int t = from; t < to; t++) {
          for (int c = 0; c < e; c++) {
            kv[j][c] += x[(n * seq + t) * e + c] / (double) (to - from);
          }
        }
      }
      for (int i = 0; i < seq; i++) {
        double[] s = new double[w];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < w; j++) {
          for (int c = 0; c < e; c++) {
            s[j] += x[(n * seq + i) * e + c] * kv[j][c];
          }
          s[j] /= Math.sqrt(e);
          max = Math.max(max, s[j]);
        }
        double sum = 0;
        for (int j = 0; j < w; j++) {
          s[j] = Math.exp(s[j] - max);
          sum += s[j];
        }
        for (int c = 0; c < e; c++) {
          double acc = 0;
          for (int j = 0; j < w; j++) {
            acc += s[j] / sum * kv[j][c];
          }
          out[(n * seq + i) * e + c] = (float) acc;
        }
      }
    }
    return out;
  }
}
