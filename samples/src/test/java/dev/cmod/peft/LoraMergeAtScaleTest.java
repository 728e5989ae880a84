package dev.cmod.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA merging at a real width (issue 10, "folding at real sizes"): {@code bench/lora_d1024.cmod}
 * is a two-block d = 1024 encoder with a rank-16 LoRA on every projection, whose MLP weights (1024
 * x 4096) are beyond the speculative folding cap. With trained (non-zero) factors, -O2 merges every
 * factor — the artifact's initializers are exactly the base model's — and its outputs on ONNX
 * Runtime equal -O0's, where the factors are computed at run time.
 */
class LoraMergeAtScaleTest {
  static final Path PROGRAM = Path.of("bench/lora_d1024.cmod");

  @Test
  void everyFactorMergesAndOutputsEqualMinusO0(@TempDir Path tmp) throws IOException {
    // trained factors: every LoRA factor random (lora_b starts at zeros, which would hide a wrong
    // merge), the base weights at their initializers
    E2E.Built declared = E2E.compileFile(PROGRAM, opts(0));
    Map<String, Tensor> factors = new LinkedHashMap<>();
    Random rnd = new Random(11);
    for (Node n : declared.graph().nodes()) {
      String path = n.op() == Op.PARAM ? n.attrs().getString("path") : "";
      if (path.contains(".lora_")) {
        Tensor t = n.attrs().getTensor("value");
        float[] f = new float[t.size()];
        for (int i = 0; i < f.length; i++) {
          f[i] = (float) rnd.nextGaussian() * 0.02f;
        }
        factors.put(path, Tensor.ofFloats(t.shape(), f));
      }
    }
    assertEquals(2 * 6 * 2, factors.size(), "two factors on six projections of two blocks");
    Path weights = tmp.resolve("factors.safetensors");
    Safetensors.write(weights, factors, Map.of());

    E2E.Built o0 = E2E.compileFile(PROGRAM, opts(0).withWeightsFile(weights));
    E2E.Built o2 = E2E.compileFile(PROGRAM, opts(2).withWeightsFile(weights));
    E2E.Built base = E2E.compileFile(PROGRAM, opts(2).withModel("Base"));

    TreeSet<String> merged = initializers(o2.onnx());
    assertTrue(merged.stream().noneMatch(s -> s.contains("lora")), merged.toString());
    assertEquals(initializers(base.onnx()), merged, "the merged artifact holds the base's weights");
    assertTrue(initializers(o0.onnx()).containsAll(factors.keySet()), "-O0 keeps the factors");

    Map<String, Tensor> in = E2E.inputs(o0, Map.of("s", 8L), 5);
    Tensor want = E2E.runOrt(o0.onnx(), in).get("y");
    Tensor got = E2E.runOrt(o2.onnx(), in).get("y");
    E2E.assertClose(want, got, 1e-4, 1e-4, "-O2 against -O0 on ONNX Runtime");
    Tensor unadapted = E2E.runOrt(base.onnx(), in).get("y");
    double diff = 0;
    for (int i = 0; i < want.size(); i++) {
      diff = Math.max(diff, Math.abs(want.floats()[i] - unadapted.floats()[i]));
    }
    assertTrue(diff > 1e-2, "the trained factors change the outputs (by " + diff + ")");
  }

  private static CompileOptions opts(int level) {
    return E2E.opts(level).withModel("Lora");
  }

  private static TreeSet<String> initializers(byte[] onnx) throws IOException {
    TreeSet<String> names = new TreeSet<>();
    for (OnnxMl.TensorProto t : OnnxMl.ModelProto.parseFrom(onnx).getGraph().getInitializerList()) {
      names.add(t.getName());
    }
    return names;
  }
}
