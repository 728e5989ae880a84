package dev.cmod.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.ParityCase;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hypernetwork LoRA ({@code with lora(rank, alpha) on P from hyper(task)}, task: Vector[8], x:
 * f32[seq, 16]) against PyTorch's unmerged per-example form base(x_b) + s (x_b A_b) B_b with A_b =
 * (task_b H_a).reshape(in, r), B_b = (task_b H_b).reshape(r, out); also over a static LoRA.
 */
@Requires(Need.TORCH)
class HyperLoraTest {
  /**
   * hyper_a: [E, in * r] (xavier), hyper_b: [E, r * out] (zeros); after a static LoRA on the same
   * weight: hyper1_*.
   */
  @Test
  void generatorShapesAndInit() {
    Map<String, Tensor> p = ParityCase.named("hyper_lora").declared();
    assertEquals(List.of(8L, 32L), PyParity.shape(p.get("base.up.weight.hyper_a")));
    assertEquals(List.of(8L, 64L), PyParity.shape(p.get("base.up.weight.hyper_b")));
    assertEquals(List.of(8L, 64L), PyParity.shape(p.get("base.down.weight.hyper_a")));
    assertEquals(List.of(8L, 32L), PyParity.shape(p.get("base.down.weight.hyper_b")));
    assertEquals(List.of(8L, 48L), PyParity.shape(p.get("head.weight.hyper1_a")));
    assertEquals(List.of(8L, 36L), PyParity.shape(p.get("head.weight.hyper1_b")));
    assertTrue(PyParity.maxAbs(p.get("base.up.weight.hyper_a")) > 0);
    assertEquals(0.0, PyParity.maxAbs(p.get("base.up.weight.hyper_b")));
  }

  /** A fresh hypernetwork (hyper_b = 0) leaves the base's outputs exactly unchanged. */
  @Test
  void freshHypernetworkChangesNothing(@TempDir Path tmp) {
    ParityCase c = ParityCase.named("hyper_lora");
    Path w = tmp.resolve("fresh.safetensors");
    Set<String> dropped =
        PyParity.writeWithout(c.dir(), k -> k.startsWith("base.") && k.contains(".hyper_"), w);
    assertEquals(4, dropped.size(), dropped.toString());
    PyParity.assertFreshKeepsBase(c, "fresh hyper", w, dropped, "base_y", Set.of("y"), 0);
  }

  /**
   * The weights are per example: swapping the task embeddings of two examples swaps their outputs,
   * not the x's.
   */
  @Test
  void weightsFollowTheTaskOfEachExample() {
    Path caseDir = ParityCase.named("hyper_lora").dir();
    PyParity.Run run = PyParity.runs(caseDir).get(0);
    Tensor x = run.inputs().get("x");
    Tensor task = run.inputs().get("task");
    assertTrue(x.dim(0) >= 2);
    Map<String, Tensor> in = new TreeMap<>(run.inputs());
    in.put("task", swapRows(task));
    Map<String, Tensor> a =
        PyParity.outputs(
            ParityCase.named("hyper_lora").program(),
            caseDir.resolve("weights.safetensors"),
            0,
            2,
            run.inputs());
    Map<String, Tensor> b =
        PyParity.outputs(
            ParityCase.named("hyper_lora").program(),
            caseDir.resolve("weights.safetensors"),
            0,
            2,
            in);
    assertTrue(PyParity.maxAbsDiff(a.get("y"), b.get("y")) > 0.05, "swapping tasks must change y");
    in.put("x", swapRows(x));
    Map<String, Tensor> c =
        PyParity.outputs(
            ParityCase.named("hyper_lora").program(),
            caseDir.resolve("weights.safetensors"),
            0,
            2,
            in);
    E2E.assertClose(
        swapRows(a.get("y")), c.get("y"), 1e-5, 1e-6, "swapping both x and task swaps y");
  }

  /**
   * A LoRA or IA3 stacked over a hypernetwork LoRA of the same weight: the first composition turns
   * the weight into [batch, in, out], and the second then ignores it (only 2-D weights count), so
   * the compile fails with CM0100 '"up" matches no weight of tuned' and the help lists "up.weight".
   * Expected: W + hyper delta (per example) + static delta, like any other stacking.
   */
  @Test
  void loraOverAHypernetworkLora(@TempDir Path tmp) throws IOException {
    String src =
        "import std.nn.{Mlp}\n\nmodel H {\n  input x: f32[seq, 16]\n  input task: Vector[8]\n  let base = Mlp(16, 32)\n"
            + "  let tuned = base with lora(rank = 2, alpha = 4) on \"up\" from hyper(task)\n"
            + "  let both = tuned with lora(rank = 2) on \"up\"\n  output y: f32[seq, 16] = both(x)\n}\n";
    Compilation.Result r = PyParity.compileSource(tmp, "lora_over_hyper.cmod", src);
    assertTrue(r.ok(), PyParity.render(r));
  }

  private static Tensor swapRows(Tensor t) {
    long row = t.size() / t.dim(0);
    float[] f = t.floats().clone();
    float[] g = f.clone();
    System.arraycopy(f, 0, g, (int) row, (int) row);
    System.arraycopy(f, (int) row, g, 0, (int) row);
    return Tensor.ofFloats(t.dtype(), t.shape(), g);
  }

  /**
   * Hypernetwork LoRA on a layer that sees [batch, in] (no sequence axis): x @ W_b broadcasts
   * [batch, in] against [batch, in, out] and gives [batch, batch, out], every example computed with
   * every example's weights. language.md says such layers must see a sequence axis, but nothing
   * checks it: with {@code output y: f32[_, 16]} the program compiles (y: f32[batch, batch, 16]).
   * Expected: a located error at the composition, or per-example weights ([batch, 16] out).
   */
  @Test
  void hyperLoraWithoutASequenceAxis(@TempDir Path tmp) throws IOException {
    String src =
        "import std.nn.{Mlp}\n\nmodel B {\n  input x: f32[16]\n  input task: Vector[8]\n  let m = Mlp(16)\n"
            + "  let t = m with lora(rank = 2) on \"up\", \"down\" from hyper(task)\n  output y: f32[_, 16] = t(x)\n}\n";
    Compilation.Result r = PyParity.compileSource(tmp, "hyper_no_seq.cmod", src);
    if (r.ok()) {
      Tensor y =
          E2E.runOrt(
                  dev.cmod.cli.Toolchain.emit(r.graph()),
                  Map.of(
                      "x",
                      Tensor.ofFloats(new long[] {3, 16}, new float[48]),
                      "task",
                      Tensor.ofFloats(new long[] {3, 8}, new float[24])))
              .get("y");
      assertEquals(List.of(3L, 16L), PyParity.shape(y), "one row per example");
    } else {
      assertTrue(
          r.diagnostics().all().stream().allMatch(d -> d.span() != null), PyParity.render(r));
    }
  }
}
