package dev.cmod.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.cli.Main;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The modular samples against PyTorch: madx.cmod (language adapter + task adapter on every ffn of a
 * frozen encoder) with LANG = "de" as shipped and "fr" (a copy compiled from a temporary folder),
 * image_prompts.cmod (image features projected to soft prompts of a causal LM), moe_lora.cmod
 * (top-2 routing over four LoRA experts) and detox.cmod (θ0 + 0.5·style − toxic from the shipped
 * bundles).
 */
@Requires(Need.TORCH)
class ComposeSamplesParityTest {
  @TempDir static Path out;

  @BeforeAll
  static void generate() {
    PyParity.COMPOSE.generate(out, "madx_de", "madx_fr", "image_prompts", "moe_lora", "detox");
  }

  /**
   * samples/madx.cmod with its LANG replaced, written to {@code dir} (it only imports std, so it
   * compiles anywhere).
   */
  static Path madx(Path dir, String lang) throws IOException {
    String src = Files.readString(PyParity.sample("madx"));
    String fixed = src.replace("const LANG = \"de\"", "const LANG = \"" + lang + "\"");
    assertTrue(
        lang.equals("de") || !fixed.equals(src),
        "samples/madx.cmod no longer declares const LANG = \"de\"");
    Path f = dir.resolve("madx_" + lang + ".cmod");
    Files.writeString(f, fixed);
    return f;
  }

  @Test
  void madxGerman() {
    PyParity.COMPOSE.check("madx (LANG = de)", PyParity.sample("madx"), out.resolve("madx_de"));
  }

  @Test
  void madxFrench(@TempDir Path tmp) throws IOException {
    PyParity.COMPOSE.check("madx (LANG = fr)", madx(tmp, "fr"), out.resolve("madx_fr"));
  }

  /**
   * The language switch: only the chosen language's adapters exist (encoder.<i>.ffn.lang_de.* or
   * lang_fr.*), the rest of the parameters are the same, and the two languages give different tags.
   */
  @Test
  void languageSwitchSelectsTheAdapters(@TempDir Path tmp) throws IOException {
    TreeSet<String> de =
        PyParity.paramPaths(
            PyParity.compile(PyParity.sample("madx"), null, 0, 0, "madx de").graph());
    TreeSet<String> fr =
        PyParity.paramPaths(PyParity.compile(madx(tmp, "fr"), null, 0, 0, "madx fr").graph());
    TreeSet<String> deAsFr = new TreeSet<>();
    de.forEach(p -> deAsFr.add(p.replace(".lang_de.", ".lang_fr.")));
    assertEquals(deAsFr, fr);
    assertEquals(8, de.stream().filter(p -> p.contains(".lang_de.")).count());
    PyParity.Run run = PyParity.COMPOSE.runs(out.resolve("madx_de")).get(0);
    assertTrue(
        PyParity.maxAbsDiff(
                run.expected().get("tags"),
                PyParity.COMPOSE.runs(out.resolve("madx_fr")).get(0).expected().get("tags"))
            > 0.05);
    // the French weights do not fit the German program: the lang_fr keys name no parameter
    Compilation.Result r =
        Compilation.compile(
            PyParity.sample("madx"),
            CompileOptions.defaults()
                .withWeightsFile(out.resolve("madx_fr/weights.safetensors"))
                .withOptLevel(0));
    assertTrue(
        !r.ok() && PyParity.render(r).contains("encoder.0.ffn.lang_fr.down.bias"),
        PyParity.render(r));
  }

  @Test
  void imagePrompts() {
    PyParity.COMPOSE.check(
        "image_prompts", PyParity.sample("image_prompts"), out.resolve("image_prompts"));
  }

  @Test
  void moeLora() {
    PyParity.COMPOSE.check("moe_lora", PyParity.sample("moe_lora"), out.resolve("moe_lora"));
  }

  /**
   * detox: the weights file sets θ0 at the base's paths (base.*), and the graph holds the merged
   * parameters of the new instance (detoxed.*), embed and head; PyTorch merges the shipped bundles
   * itself.
   */
  @Test
  void detox() {
    Set<String> graph =
        Set.of(
            "embed.table",
            "head.weight",
            "head.bias",
            "detoxed.up.weight",
            "detoxed.up.bias",
            "detoxed.down.weight",
            "detoxed.down.bias");
    Path caseDir = out.resolve("detox");
    PyParity.COMPOSE.check(
        "detox",
        PyParity.sample("detox"),
        caseDir.resolve("weights.safetensors"),
        caseDir,
        Set.of(),
        graph);
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
