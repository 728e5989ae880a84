package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.PyParity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints and merges that do not fit the program are located errors with their code, never
 * ignored: PEFT adapters with unmatched modules, wrong shapes, bad configs, ambiguous names; key
 * maps that are malformed; merge builtins with arguments out of range.
 */
class PeftDiagnosticsTest {
  @TempDir Path dir;

  private static final String LORA_CONFIG =
      "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 4, \"target_modules\": [\"fc1\","
          + " \"fc2\"], \"bias\": \"none\"}";

  private static final String NET =
      """
      import std.nn.{Linear}
      import weights "adapter/" as style
      module Net(d: int, h: int)(x: f32[..., d]) -> f32[..., d] {
        let fc1 = Linear(d, h)
        let fc2 = Linear(h, d)
        x |> fc1 |> relu |> fc2
      }
      model M {
        input x: f32[8]
        let net = Net(8, 16)
        output y: f32[8] = (net with COMPOSITION)(x)
      }
      """;

  private static Tensor zeros(long... shape) {
    return Tensor.ofFloats(shape, new float[(int) Tensor.numel(shape)]);
  }

  private static Map<String, Tensor> lora(String module, long r, long in, long out) {
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("base_model.model." + module + ".lora_A.weight", zeros(r, in));
    t.put("base_model.model." + module + ".lora_B.weight", zeros(out, r));
    return t;
  }

  private void adapter(String config, Map<String, Tensor> tensors) throws Exception {
    Path a = Files.createDirectories(dir.resolve("adapter"));
    if (config != null) {
      Files.writeString(a.resolve("adapter_config.json"), config);
    }
    Safetensors.write(a.resolve("adapter_model.safetensors"), tensors, Map.of());
  }

  private void assertError(String source, DiagnosticCode code, String... words) throws Exception {
    Path f = dir.resolve("m.cmod");
    Files.writeString(f, source);
    Compilation.Result r = Compilation.compile(f, E2E.opts(0));
    assertFalse(r.ok(), "must not compile");
    String all = PyParity.render(r);
    assertTrue(
        r.diagnostics().all().stream()
            .anyMatch(
                d ->
                    d.code() == code
                        && java.util.Arrays.stream(words)
                            .allMatch(
                                w ->
                                    d.message().contains(w)
                                        || (d.help() != null && d.help().contains(w)))),
        "expected " + code + " with " + String.join(", ", words) + ", got:\n" + all);
  }

  private String net(String composition) {
    return NET.replace("COMPOSITION", composition);
  }

  @Test
  void anAdapterModuleThatMatchesNoLayerNamesTheClosest() throws Exception {
    Map<String, Tensor> t = lora("body.fc1", 2, 8, 16);
    t.putAll(lora("body.fc3", 2, 16, 8));
    adapter(LORA_CONFIG, t);
    assertError(
        net("lora(from = style)"), DiagnosticCode.KEY_UNMATCHED, "body.fc3", "fc2", "map = ");
  }

  @Test
  void aFactorOfTheWrongShapeIsAnError() throws Exception {
    Map<String, Tensor> t = lora("body.fc1", 2, 7, 16);
    t.putAll(lora("body.fc2", 2, 16, 8));
    adapter(LORA_CONFIG, t);
    assertError(net("lora(from = style)"), DiagnosticCode.KEY_SHAPE, "body.fc1", "[2, 7]");
  }

  @Test
  void twoModulesForOneLayerAreAmbiguous() throws Exception {
    Map<String, Tensor> t = lora("enc.fc1", 2, 8, 16);
    t.putAll(lora("dec.fc1", 2, 8, 16));
    adapter(LORA_CONFIG, t);
    assertError(net("lora(from = style)"), DiagnosticCode.KEY_AMBIGUOUS, "enc.fc1", "dec.fc1");
  }

  @Test
  void aWrittenMapResolvesTheAmbiguity() throws Exception {
    Map<String, Tensor> t = lora("enc.fc1", 2, 8, 16);
    t.putAll(lora("dec.fc2", 2, 16, 8));
    adapter(LORA_CONFIG, t);
    Path f = dir.resolve("m.cmod");
    Files.writeString(f, net("lora(from = style, map = [[\"enc.fc1\", \"fc1\"]])"));
    assertTrue(Compilation.compile(f, E2E.opts(0)).ok());
  }

  @Test
  void shapesDecideBetweenModulesOfTheSameName() throws Exception {
    Map<String, Tensor> t = lora("enc.fc1", 2, 8, 16);
    t.putAll(lora("dec.fc1", 2, 16, 8));
    adapter(LORA_CONFIG, t);
    Path f = dir.resolve("m.cmod");
    // fc1 ends both module names; only enc.fc1's factors fit its [8, 16] weight
    Files.writeString(f, net("lora(from = style, map = [[\"dec.fc1\", \"fc2\"]])"));
    Compilation.Result r = Compilation.compile(f, E2E.opts(0));
    assertTrue(r.ok(), PyParity.render(r));
  }

  @Test
  void badConfigsAreErrorsAtTheImport() throws Exception {
    Map<String, Tensor> t = lora("body.fc1", 2, 8, 16);
    adapter(LORA_CONFIG.replace("\"r\": 2", "\"r\": 0"), t);
    assertError(net("lora(from = style)"), DiagnosticCode.PEFT_CHECKPOINT, "r must be");
    adapter(LORA_CONFIG.replace("\"r\": 2", "\"r\": 4"), t);
    assertError(net("lora(from = style)"), DiagnosticCode.PEFT_CHECKPOINT, "rank 2", "r = 4");
    adapter(LORA_CONFIG.replace("\"bias\": \"none\"", "\"bias\": \"all\""), t);
    assertError(net("lora(from = style)"), DiagnosticCode.PEFT_CHECKPOINT, "bias");
    adapter(LORA_CONFIG.replace("\"lora_alpha\": 4,", ""), t);
    assertError(net("lora(from = style)"), DiagnosticCode.PEFT_CHECKPOINT, "lora_alpha");
    adapter("[1, 2]", t);
    assertError(net("lora(from = style)"), DiagnosticCode.PEFT_CHECKPOINT, "JSON object");
    Files.delete(dir.resolve("adapter/adapter_config.json"));
    assertError(net("lora(from = style)"), DiagnosticCode.PEFT_CHECKPOINT, "adapter_config.json");
    Map<String, Tensor> odd = new LinkedHashMap<>(t);
    odd.put("base_model.model.body.fc1.lora_embedding_A", zeros(2, 8));
    adapter(LORA_CONFIG, odd);
    assertError(net("lora(from = style)"), DiagnosticCode.PEFT_CHECKPOINT, "lora_embedding_A");
  }

  @Test
  void theCompositionMustMatchTheAdapterAndTakeNoRank() throws Exception {
    adapter(LORA_CONFIG, lora("body.fc1", 2, 8, 16));
    assertError(net("ia3(from = style)"), DiagnosticCode.PEFT_CHECKPOINT, "lora adapter");
    assertError(net("lora(rank = 2, from = style)"), DiagnosticCode.UNKNOWN_ARGUMENT, "rank");
    assertError(net("lora(from = style, map = [\"fc1\"])"), DiagnosticCode.KEY_MAP, "pair");
    assertError(
        net("lora(from = style, map = [[\"a.*\", \"fc1\"]])"), DiagnosticCode.KEY_MAP, "'*'");
  }

  private static final String MERGE =
      """
      import std.nn.{Mlp}
      import weights "a.safetensors" as a
      model M {
        input x: f32[8]
        let mlp = Mlp(8, 16)
        let m = MERGE
        output y: f32[8] = m(x)
      }
      """;

  private void bundle(String key, long... shape) {
    Safetensors.write(dir.resolve("a.safetensors"), Map.of(key, zeros(shape)), Map.of());
  }

  @Test
  void mergeArgumentsAreChecked() throws Exception {
    bundle("up.weight", 8, 16);
    assertError(
        MERGE.replace("MERGE", "ties(mlp, [a], density = 1.5)"),
        DiagnosticCode.MERGE_ARGS,
        "density");
    assertError(MERGE.replace("MERGE", "ties(mlp, [a])"), DiagnosticCode.MERGE_ARGS, "density");
    assertError(
        MERGE.replace("MERGE", "dare(mlp, [a], p = 1.0)"), DiagnosticCode.MERGE_ARGS, "[0, 1)");
    assertError(
        MERGE.replace("MERGE", "dare(mlp, [a, 3], p = 0.5)"), DiagnosticCode.MERGE_ARGS, "bundles");
    assertError(
        MERGE.replace("MERGE", "dare(x, [a], p = 0.5)"), DiagnosticCode.MERGE_ARGS, "instance");
    assertError(
        MERGE.replace("MERGE", "ties(mlp, [a], density = 0.5, weights = [1, 2])"),
        DiagnosticCode.MERGE_ARGS,
        "2 weights");
  }

  @Test
  void mergedBundlesAreCheckedLikeArithmetic() throws Exception {
    bundle("up.weight", 16, 8);
    assertError(
        MERGE.replace("MERGE", "ties(mlp, [a], density = 0.5)"),
        DiagnosticCode.WEIGHTS_SHAPE,
        "up.weight");
    bundle("up.weigth", 8, 16);
    assertError(
        MERGE.replace("MERGE", "dare(mlp, [a], p = 0.5)"),
        DiagnosticCode.WEIGHTS_UNKNOWN_KEY,
        "up.weigth",
        "up.weight");
  }
}
