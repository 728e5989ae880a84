package dev.cmod.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.cli.Main;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.ParityCase;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The modular samples beyond their parity cases (madx_de, madx_fr, image_prompts, moe_lora and
 * detox in the corpus): madx's language switch selects the adapters, and detox's exported weights
 * compile back.
 */
@Requires(Need.TORCH)
class ComposeSamplesTest {
  /**
   * The language switch: only the chosen language's adapters exist (encoder.<i>.ffn.lang_de.* or
   * lang_fr.*), the rest of the parameters are the same, and the two languages give different tags.
   */
  @Test
  void languageSwitchSelectsTheAdapters() {
    ParityCase de = ParityCase.named("madx_de");
    ParityCase fr = ParityCase.named("madx_fr");
    TreeSet<String> deParams = new TreeSet<>(de.declared().keySet());
    TreeSet<String> frParams = new TreeSet<>(fr.declared().keySet());
    TreeSet<String> deAsFr = new TreeSet<>();
    deParams.forEach(p -> deAsFr.add(p.replace(".lang_de.", ".lang_fr.")));
    assertEquals(deAsFr, frParams);
    assertEquals(8, deParams.stream().filter(p -> p.contains(".lang_de.")).count());
    assertTrue(
        PyParity.maxAbsDiff(
                PyParity.runs(de.dir()).get(0).expected().get("tags"),
                PyParity.runs(fr.dir()).get(0).expected().get("tags"))
            > 0.05);
    // the French weights do not fit the German program: the lang_fr keys name no parameter
    Compilation.Result r =
        Compilation.compile(
            de.program(),
            CompileOptions.defaults()
                .withWeightsFile(fr.dir().resolve("weights.safetensors"))
                .withOptLevel(0));
    assertTrue(
        !r.ok() && PyParity.render(r).contains("encoder.0.ffn.lang_fr.down.bias"),
        PyParity.render(r));
  }

  /**
   * language.md section 9: "compiling again with --weights W.safetensors reproduces the outputs".
   * For detox.cmod, export-weights writes the merged detoxed.* parameters (and no base.*), and
   * compiling with that file fails: four CM0300 "key 'detoxed.up.weight' in W names no parameter of
   * model Detoxified" whose help suggests the very same key ("did you mean 'detoxed.up.weight'?").
   */
  @Test
  void detoxExportedWeightsCompileBack(@TempDir Path tmp) {
    Path w = tmp.resolve("detox.safetensors");
    assertEquals(
        0, Main.execute("export-weights", PyParity.sample("detox").toString(), "-o", w.toString()));
    Map<String, Tensor> exported = Safetensors.read(w);
    assertTrue(!exported.isEmpty());
    Compilation.Result r =
        Compilation.compile(PyParity.sample("detox"), CompileOptions.defaults().withWeightsFile(w));
    assertTrue(r.ok(), PyParity.render(r));
  }
}
