package dev.cmod.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.Compilation;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.PyParity;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * {@code frozen} backbones with compositions: the adapters, prefixes and prompts added to a frozen
 * instance are trainable (ONNX metadata {@code cmod.trainable}), the backbone stays in {@code
 * cmod.frozen}; checked at -O0 and -O2 against the -O0 graph's declared parameters.
 */
class ComposeFrozenTest {
  /** madx.cmod: frozen embed and encoder; the language and task adapters, norm and tagger train. */
  @Test
  void madxTrainsOnlyTheAdaptersAndTheHead() {
    check(
        PyParity.sample("madx"),
        p ->
            p.startsWith("embed.")
                || p.startsWith("encoder.")
                    && !p.contains(".lang_de.")
                    && !p.contains(".task_ner."));
  }

  /** image_prompts.cmod: only the projection to the soft prompts trains. */
  @Test
  void imagePromptsTrainsOnlyTheProjection() {
    check(PyParity.sample("image_prompts"), p -> !p.startsWith("project."));
  }

  /**
   * moe_lora.cmod: the frozen embed and base Mlp; the LoRA factors, router, norm and head train.
   */
  @Test
  void moeLoraTrainsTheExpertsFactors() {
    check(
        PyParity.sample("moe_lora"),
        p -> p.startsWith("embed.") || p.startsWith("base.") && !p.contains(".lora"));
  }

  private static void check(Path cmod, Predicate<String> frozen) {
    TreeSet<String> all =
        PyParity.paramPaths(
            PyParity.compile(cmod, null, 0, 0, cmod.getFileName().toString()).graph());
    TreeSet<String> wantFrozen = new TreeSet<>();
    TreeSet<String> wantTrainable = new TreeSet<>();
    for (String p : all) {
      (frozen.test(p) ? wantFrozen : wantTrainable).add(p);
    }
    for (int level : PyParity.LEVELS) {
      String at = cmod.getFileName() + " -O" + level;
      Compilation.Result r = PyParity.compile(cmod, null, 0, level, at);
      Map<String, String> meta = E2E.onnxMetadata(Toolchain.emit(r.graph()));
      assertEquals(wantFrozen, E2E.commaList(meta.get("cmod.frozen")), at + ": cmod.frozen");
      assertEquals(
          wantTrainable, E2E.commaList(meta.get("cmod.trainable")), at + ": cmod.trainable");
    }
  }
}
