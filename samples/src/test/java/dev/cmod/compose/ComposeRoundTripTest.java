package dev.cmod.compose;

import dev.cmod.testkit.PyParity;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * compile → {@code cmod export-weights} → compile with {@code --weights} of that file under another
 * {@code --seed}: the exported keys are the graph's parameter paths and the outputs are identical
 * bit for bit at -O0 and -O2, for every composition program here and the modular samples (detox is
 * a known failure, see ComposeSamplesTest). Needs no PyTorch.
 */
class ComposeRoundTripTest {
  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "compose/adapter_block.cmod",
        "compose/adapter_stack.cmod",
        "compose/adapterhub.cmod",
        "compose/adapterhub_repeat.cmod",
        "compose/prefix_prompt.cmod",
        "compose/prompt_prefix.cmod",
        "compose/hyper_lora.cmod",
        "compose/fuse.cmod",
        "compose/std_modules.cmod",
        "compose/prefix_causal.cmod",
        "samples/madx.cmod",
        "samples/image_prompts.cmod",
        "samples/moe_lora.cmod"
      })
  void exportedWeightsReproduceTheModelUnderAnotherSeed(String name, @TempDir Path tmp) {
    Path cmod =
        name.startsWith("samples/")
            ? PyParity.sample(name.substring(8, name.length() - 5))
            : PyParity.resource(name);
    PyParity.assertRoundTrip(name, cmod, tmp.resolve("w.safetensors"), 1e-5);
  }
}
