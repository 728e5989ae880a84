package dev.cmod.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.PyParity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code frozen} / {@code trainable} with parameter-efficient fine-tuning: a frozen backbone's
 * parameters are listed in the ONNX metadata {@code cmod.frozen}, the LoRA / IA3 factors added to
 * it and the trainable head in {@code cmod.trainable}; {@code cmod explain} shows the counts.
 */
class FrozenTest {
  static final Path CMOD = PyParity.resource("peft/frozen_lora.cmod");

  /** The expected split, from the -O0 graph's declared parameters. */
  static TreeSet<String> expectedFrozen() {
    TreeSet<String> f = new TreeSet<>();
    for (int i = 0; i < 2; i++) {
      for (String p :
          List.of(
              "ln1.gamma",
              "ln1.beta",
              "ln2.gamma",
              "ln2.beta",
              "attn.q.weight",
              "attn.q.bias",
              "attn.k.weight",
              "attn.k.bias",
              "attn.v.weight",
              "attn.v.bias",
              "attn.o.weight",
              "attn.o.bias",
              "ffn.up.weight",
              "ffn.up.bias",
              "ffn.down.weight",
              "ffn.down.bias")) {
        f.add("backbone." + i + "." + p);
      }
    }
    for (String p : List.of("up.weight", "up.bias", "down.weight", "down.bias")) {
      f.add("adapter." + p);
    }
    return f;
  }

  static TreeSet<String> expectedTrainable() {
    TreeSet<String> t = new TreeSet<>(List.of("head.weight", "head.bias", "adapter.up.weight.ia3"));
    for (int i = 0; i < 2; i++) {
      for (String p : List.of("q", "v")) {
        t.add("backbone." + i + ".attn." + p + ".weight.lora_a");
        t.add("backbone." + i + ".attn." + p + ".weight.lora_b");
      }
    }
    return t;
  }

  @Test
  void metadataListsFrozenAndTrainableParameters() {
    for (int level : PyParity.LEVELS) {
      String at = "-O" + level;
      Compilation.Result r = PyParity.compile(CMOD, null, 0, level, at);
      Map<String, String> meta = E2E.onnxMetadata(Toolchain.emit(r.graph()));
      assertEquals(expectedFrozen(), E2E.commaList(meta.get("cmod.frozen")), at + ": cmod.frozen");
      assertEquals(
          expectedTrainable(), E2E.commaList(meta.get("cmod.trainable")), at + ": cmod.trainable");
    }
  }

  /** Whatever -O2 does with the frozen parameters (folding), the outputs stay those of -O0. */
  @Test
  void optimizationKeepsTheOutputs() {
    dev.cmod.testkit.E2E.Built b =
        dev.cmod.testkit.E2E.compileFile(CMOD, CompileOptions.defaults().withOptLevel(0));
    Map<String, dev.cmod.ir.tensor.Tensor> in =
        dev.cmod.testkit.E2E.inputs(b, Map.of("batch", 2L, "seq", 6L), 3);
    dev.cmod.ir.tensor.Tensor y0 = PyParity.outputs(CMOD, null, 0, 0, in).get("y");
    dev.cmod.ir.tensor.Tensor y2 = PyParity.outputs(CMOD, null, 0, 2, in).get("y");
    dev.cmod.testkit.E2E.assertClose(y0, y2, 1e-5, 1e-6, "frozen_lora -O2 vs -O0");
  }

  @Test
  void graphFlagsMatch() {
    Compilation.Result r = PyParity.compile(CMOD, null, 0, 0, "-O0");
    TreeSet<String> frozen = new TreeSet<>();
    TreeSet<String> trainable = new TreeSet<>();
    for (Node n : r.graph().nodes()) {
      if (n.op() == Op.PARAM) {
        (n.attrs().getBool("trainable", true) ? trainable : frozen)
            .add(n.attrs().getString("path"));
      }
    }
    assertEquals(expectedFrozen(), frozen);
    assertEquals(expectedTrainable(), trainable);
  }

  /**
   * cmod explain: "parameters: N (trainable T, frozen F)" and one row per parameter with its flag.
   */
  @Test
  void explainShowsTrainableAndFrozenCounts() throws IOException, InterruptedException {
    Compilation.Result r = PyParity.compile(CMOD, null, 0, 0, "-O0");
    long frozen = 0;
    long trainable = 0;
    for (Node n : r.graph().nodes()) {
      if (n.op() == Op.PARAM) {
        long size = n.attrs().getTensor("value").size();
        if (n.attrs().getBool("trainable", true)) {
          trainable += size;
        } else {
          frozen += size;
        }
      }
    }
    // 2 blocks x (4 x 16 norm + 4 x (256 + 16) attn + (16*64 + 64) + (64*16 + 16) ffn) + Mlp(16, 8)
    // (16*8 + 8 + 8*16 + 16)
    assertEquals(2 * (64 + 4 * 272 + 1088 + 1040) + 280, frozen);
    // 4 LoRA pairs (16*4 + 4*16) + ia3 [8] + head (16*4 + 4)
    assertEquals(4 * 128 + 8 + 68, trainable);
    String text = explain();
    assertTrue(
        text.contains(
            "parameters: "
                + (frozen + trainable)
                + " (trainable "
                + trainable
                + ", frozen "
                + frozen
                + ")"),
        text);
    for (String p : expectedFrozen()) {
      assertTrue(
          text.lines().anyMatch(l -> l.trim().startsWith(p + " ") && l.trim().endsWith(" frozen")),
          p + " frozen in:\n" + text);
    }
    for (String p : expectedTrainable()) {
      assertTrue(
          text.lines()
              .anyMatch(l -> l.trim().startsWith(p + " ") && l.trim().endsWith(" trainable")),
          p + " trainable in:\n" + text);
    }
  }

  /**
   * {@code frozen} on an adapted instance should freeze it all (the base's parameters and the
   * factors), like on any other instance; today it is rejected: "frozen applies to module
   * instances, not an adapted instance of base".
   */
  @Test
  void frozenOnAnAdaptedInstance(@TempDir Path tmp) throws IOException {
    Path f = tmp.resolve("frozen_adapted.cmod");
    Files.writeString(
        f,
        String.join(
            "\n",
            "import std.nn.{Mlp}",
            "model M {",
            "  input x: f32[seq, 16]",
            "  let base = Mlp(16, 32)",
            "  let tuned = frozen (base with lora(rank = 4) on \"up\")",
            "  output y: f32[seq, 16] = tuned(x)",
            "}",
            ""));
    Compilation.Result r = PyParity.compile(f, null, 0, 0, "frozen adapted");
    for (Node n : r.graph().nodes()) {
      if (n.op() == Op.PARAM) {
        assertFalse(
            n.attrs().getBool("trainable", true),
            n.attrs().getString("path") + " should be frozen");
      }
    }
  }

  /**
   * Runs {@code cmod explain} in a JVM of its own (the CLI's output stream is fixed at class load).
   */
  private static String explain() throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd =
        new ArrayList<>(
            Arrays.asList(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "dev.cmod.cli.Main",
                "explain",
                CMOD.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "cmod explain timed out");
    assertEquals(0, p.exitValue(), out);
    return out;
  }
}
