package dev.cmod.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.cmod.testkit.Need;
import dev.cmod.testkit.ParityCase;
import dev.cmod.testkit.Requires;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * std.route (MoE top-2, SoftMoE), std.compose (Residual, Parallel, Average, Chain over module
 * instances, one of them a LoRA composition) and std.peft (LoraLinear, IA3Linear, Adapter,
 * SoftPrompt) against PyTorch, with trained values for every factor, scale, adapter and prompt.
 */
@Requires(Need.TORCH)
class StdModulesTest {
  /**
   * Instances passed to std.compose keep the names they were given (a.up.weight), nothing is
   * created under res / par / avg / ch.
   */
  @Test
  void composedInstancesKeepTheirNames() {
    TreeSet<String> paths = new TreeSet<>(ParityCase.named("std_modules").declared().keySet());
    for (String p : paths) {
      assertFalse(
          p.startsWith("res.")
              || p.startsWith("par.")
              || p.startsWith("avg.")
              || p.startsWith("ch."),
          p);
    }
    TreeSet<String> moe = new TreeSet<>();
    for (String p : paths) {
      if (p.startsWith("moe.") && !p.startsWith("moe.experts.")) {
        moe.add(p);
      }
    }
    assertEquals(new TreeSet<>(java.util.Set.of("moe.Router_0.weight")), moe);
  }
}
