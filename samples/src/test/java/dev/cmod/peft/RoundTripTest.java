package dev.cmod.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.cli.Main;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.PyParity;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * compile → {@code cmod export-weights} → compile with {@code --weights} of that file and a
 * different {@code --seed}: identical outputs (bit for bit), at -O0 and -O2, for models with LoRA
 * experts, a router and IA3. Needs no PyTorch.
 */
class RoundTripTest {
  static final String[] PROGRAMS = {
    "moe_lora_topk.cmod", "lora_blocks.cmod", "frozen_lora.cmod", "ia3_mlp.cmod", "moe_example.cmod"
  };

  @Test
  void exportedWeightsReproduceTheModelUnderAnotherSeed(@TempDir Path tmp) {
    for (String name : PROGRAMS) {
      Path cmod = PyParity.resource("peft/" + name);
      Path w = tmp.resolve(name + ".safetensors");
      Compilation.Result r0 = PyParity.assertRoundTrip(name, cmod, w, 1e-4);
      assertEquals(
          r0.model(),
          Safetensors.readMetadata(w).get("cmod.model"),
          name + ": metadata cmod.model");
    }
  }

  /**
   * Trained (non-zero) factors survive export-weights unchanged, bit for bit, and the file compiles
   * back without notes.
   */
  @Test
  void trainedFactorsSurviveExport(@TempDir Path tmp) {
    Path cmod = PyParity.resource("peft/moe_lora_topk.cmod");
    Path init = tmp.resolve("init.safetensors");
    assertEquals(0, Main.execute("export-weights", cmod.toString(), "-o", init.toString()));
    Map<String, Tensor> trained = new TreeMap<>(Safetensors.read(init));
    java.util.Random rnd = new java.util.Random(7);
    int changed = 0;
    for (Map.Entry<String, Tensor> e : trained.entrySet()) {
      if (e.getKey().contains(".lora")) {
        Tensor t = e.getValue();
        float[] f = new float[t.size()];
        for (int i = 0; i < f.length; i++) {
          f[i] = (float) (0.3 * rnd.nextGaussian());
        }
        e.setValue(Tensor.ofFloats(t.shape(), f));
        changed++;
      }
    }
    assertEquals(12, changed, "6 factor pairs");
    Path tw = tmp.resolve("trained.safetensors");
    Safetensors.write(tw, trained, null);
    Path again = tmp.resolve("again.safetensors");
    assertEquals(
        0,
        Main.execute(
            "export-weights",
            cmod.toString(),
            "--weights",
            tw.toString(),
            "--seed",
            "5",
            "-o",
            again.toString()));
    Map<String, Tensor> back = Safetensors.read(again);
    assertEquals(trained.keySet(), new java.util.TreeSet<>(back.keySet()));
    for (String k : trained.keySet()) {
      assertTrue(PyParity.bitwiseEqual(trained.get(k), back.get(k)), k);
    }
    // the trained factors change the output relative to the fresh ones
    E2E.Built b = E2E.compileFile(cmod, CompileOptions.defaults().withOptLevel(0));
    Map<String, Tensor> in = E2E.inputs(b, Map.of("batch", 2L, "seq", 5L), 1);
    Tensor y0 = PyParity.outputs(cmod, init, 0, 2, in).get("y");
    Tensor y1 = PyParity.outputs(cmod, again, 9, 2, in).get("y");
    assertFalse(PyParity.bitwiseEqual(y0, y1));
    assertTrue(PyParity.bitwiseEqual(PyParity.outputs(cmod, tw, 0, 2, in).get("y"), y1));
  }
}
