package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.cmod.compiler.Cost;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.Need;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code import onnx}: a real pretrained model (PaddleOCR's text-orientation classifier, from the
 * shared corpora) used as a frozen module inside a cmod model with a trainable head. The imported
 * part must compute what the original file computes on ONNX Runtime.
 */
class ImportOnnxTest {
  @TempDir Path dir;

  /** PaddleOCR's classifier in the shared corpora; skips the test (fails it in CI) when absent. */
  static Path corpusModel() {
    return Need.corpus("models/image/ch_ppocr_mobile_v2.0_cls_infer.onnx");
  }

  @Test
  void loraReachesIntoTheImportedModel() throws Exception {
    Path model = corpusModel();
    Files.copy(model, dir.resolve("cls.onnx"));
    String src =
        """
        import onnx "cls.onnx" as Orientation
        model Reader {
          input line: Image[3, 48, 192]
          let tuned = Orientation with lora(rank = 2, alpha = 4) on "fc_*"
          output base: f32[2] = Orientation(line)
          output probs: f32[2] = tuned(line)
        }
        """;
    // trained-looking factors: the composition must change the output, identically on ORT and the
    // interpreter
    Map<String, Tensor> w = new java.util.TreeMap<>();
    float[] a = new float[400];
    float[] bb = new float[4];
    java.util.Random rng = new java.util.Random(3);
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) rng.nextGaussian() * 0.1f;
    }
    for (int i = 0; i < bb.length; i++) {
      bb[i] = (float) rng.nextGaussian();
    }
    w.put("Orientation.fc_0.w_0.lora_a", Tensor.ofFloats(new long[] {200, 2}, a));
    w.put("Orientation.fc_0.w_0.lora_b", Tensor.ofFloats(new long[] {2, 2}, bb));
    Path weights = dir.resolve("lora.safetensors");
    dev.cmod.ir.io.Safetensors.write(weights, w, Map.of());
    for (int level : new int[] {0, 2}) {
      Files.writeString(dir.resolve("lora.cmod"), src);
      E2E.Built b =
          E2E.compileFile(dir.resolve("lora.cmod"), E2E.opts(level).withWeightsFile(weights));
      Map<String, Tensor> in = E2E.inputs(b, Map.of("batch", 2L), 9);
      Map<String, Tensor> out = E2E.assertOrtMatchesInterpreter(b, in, 1e-4, 1e-5);
      double diff = 0;
      for (int i = 0; i < out.get("base").size(); i++) {
        diff = Math.max(diff, Math.abs(out.get("base").get(i) - out.get("probs").get(i)));
      }
      org.junit.jupiter.api.Assertions.assertTrue(
          diff > 1e-3, "the LoRA must change the imported model's output");
    }
  }

  @Test
  void pretrainedClassifierAsFrozenModule() throws Exception {
    Path model = corpusModel();
    Files.copy(model, dir.resolve("cls.onnx"));
    String src =
        """
        import onnx "cls.onnx" as Orientation
        import std.nn.{Linear}
        model Reader {
          input line: Image[3, 48, 192]
          let head = Linear(2, 4)
          output probs: f32[2] = Orientation(line)
          output tags: f32[4] = Orientation(line) |> head
        }
        """;
    for (int level : new int[] {0, 2}) {
      E2E.Built b = E2E.compileSource(dir, "reader.cmod", src, E2E.opts(level));
      for (long batch : new long[] {1, 3}) {
        Map<String, Tensor> in = E2E.inputs(b, Map.of("batch", batch), 5);
        Map<String, Tensor> out = E2E.assertOrtMatchesInterpreter(b, in, 1e-4, 1e-5);
        // the imported part equals the original model run directly
        Map<String, Tensor> original =
            E2E.runOrt(Files.readAllBytes(model), Map.of("x", in.get("line")));
        E2E.assertClose(
            original.values().iterator().next(),
            out.get("probs"),
            1e-4,
            1e-5,
            "probs vs original model");
      }
      Cost.Params pc = Cost.params(b.graph());
      assertEquals(12, pc.trainable(), "only the head (2*4 + 4) is trainable");
      for (Node n : b.graph().nodes()) {
        if (n.op() == Op.PARAM && n.attrs().getString("path").startsWith("Orientation.")) {
          assertFalse(
              n.attrs().getBool("trainable", true),
              n.attrs().getString("path") + " must be frozen");
        }
      }
    }
  }
}
