package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.Requires;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEFT checkpoints written by PyTorch (resources/peft/checkpoints.py: a small model, LoRA and IA³
 * adapters in PEFT's key layout and config format) are imported with {@code import weights
 * "adapter/"}, compiled at -O0 and -O2, run on ONNX Runtime and compared with the PyTorch model
 * with the adapter applied as PEFT applies it.
 */
@Requires(Need.TORCH)
class PeftImportTest {
  @TempDir static Path dir;

  @BeforeAll
  static void writeCheckpoints() throws Exception {
    String script =
        new String(
            PeftImportTest.class.getResourceAsStream("/peft/checkpoints.py").readAllBytes(),
            java.nio.charset.StandardCharsets.UTF_8);
    Need.runPython(dir, script);
  }

  private static final String NET =
      """
      import std.nn.{Linear, Mlp}
      module Net(d: int, h: int)(x: f32[..., d]) -> f32[..., d] {
        let fc1 = Linear(d, h)
        let fc2 = Linear(h, d)
        x |> fc1 |> gelu |> fc2
      }
      """;

  /** The adapter's modules (body.fc1, body.fc2) end with the cmod layers' names: mapped alone. */
  @Test
  void loraMappedByName() throws Exception {
    check(
        "lora_auto",
        NET
            + """
            import weights "adapter/" as style
            model M {
              input x: f32[8]
              let net = Net(8, 16)
              let tuned = net with lora(from = style)
              output y: f32[8] = tuned(x)
            }
            """);
  }

  /** std.nn.Mlp names its layers up and down: a written map, and rsLoRA's alpha / sqrt(r). */
  @Test
  void loraWithAWrittenMapAndRsLora() throws Exception {
    check(
        "lora_map",
        NET
            + """
            import weights "adapter/adapter_model.safetensors" as style
            model M {
              input x: f32[8]
              let mlp = Mlp(8, 16)
              let tuned = mlp with lora(from = style, map = [["body.fc1", "up"], ["body.fc2", "down"]])
              output y: f32[8] = tuned(x)
            }
            """);
  }

  /** A LoRA on every layer of a repeat stack: model.layers.1.fc2 is the stack's 1.fc2. */
  @Test
  void loraOnARepeatStack() throws Exception {
    check(
        "lora_stack",
        NET
            + """
            import weights "adapter/" as style
            model M {
              input x: f32[8]
              let s = repeat(2) Net(8, 16)
              let tuned = s with lora(from = style)
              output y: f32[8] = tuned(x)
            }
            """);
  }

  /** IA³ as PEFT means it: fc1's output (bias included) scaled, fc2's input scaled. */
  @Test
  void ia3ScalesOutputsAndFeedForwardInputs() throws Exception {
    check(
        "ia3",
        NET
            + """
            import weights "adapter/" as style
            model M {
              input x: f32[8]
              let net = Net(8, 16)
              let tuned = net with ia3(from = style)
              output y: f32[8] = tuned(x)
            }
            """);
  }

  private static final String IMPORTED =
      """
      import onnx "net.onnx" as Net
      import weights "adapter/" as style
      model M {
        input x: f32[8]
        let tuned = Net with COMPOSITION(from = style)
        output y: f32[8] = tuned(x)
      }
      """;

  /**
   * The base exported by PyTorch itself and imported: its Linear weights stay [out, in] behind
   * Gemm's transpose, so the factors keep PEFT's layout; LoRA and IA³ still give PEFT's outputs.
   */
  @Test
  void adaptersOnAModelExportedByPyTorch() throws Exception {
    check("lora_auto", IMPORTED.replace("COMPOSITION", "lora"), false);
    check("ia3", IMPORTED.replace("COMPOSITION", "ia3"), false);
  }

  private static void check(String name, String source) throws Exception {
    check(name, source, true);
  }

  private static void check(String name, String source, boolean baseWeights) throws Exception {
    Path d = dir.resolve(name);
    Tensor x = Npy.read(d.resolve("x.npy"));
    Tensor want = Npy.read(d.resolve("y.npy"));
    for (int level : new int[] {0, 2}) {
      CompileOptions o = E2E.opts(level);
      if (baseWeights) {
        o = o.withWeightsFile(d.resolve("base.safetensors"));
      }
      E2E.Built b = E2E.compileSource(d, "m.cmod", source, o);
      Map<String, Tensor> got = E2E.runOrt(b.onnx(), Map.of("x", x));
      E2E.assertClose(want, got.get("y"), 0, 1e-4, name + " at -O" + level);
      if (level == 2) {
        assertTrue(
            b.graph().nodes().stream()
                .noneMatch(
                    n ->
                        n.op() == dev.cmod.ir.graph.Op.PARAM
                            && (n.attrs().getString("path").contains(".lora_")
                                || n.attrs().getString("path").endsWith(".ia3"))),
            name + ": -O2 merges the adapter into the weights");
      }
    }
  }
}
