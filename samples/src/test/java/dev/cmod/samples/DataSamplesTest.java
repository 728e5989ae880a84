package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.cmod.cli.Main;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.onnx.OnnxRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The samples that run on real data from the command line, with their preprocessing and decoding
 * declared: {@code ocr_read.cmod} reads the text of a picture, {@code vad_clip.cmod} finds speech
 * in a WAV file, {@code minilm_similarity.cmod} compares two sentences. Each runs through {@code
 * cmod run} on the files committed in {@code samples/real/}; the oracle is the original model on
 * ONNX Runtime fed by an independent path (the expected text; DJL's tokenizer called directly; the
 * clip's chunks cut by hand).
 */
class DataSamplesTest {
  @TempDir Path dir;

  @Test
  void theOcrSampleReadsTheTextOfThePicture() throws Exception {
    Path src = RealSamples.stage(dir, "ocr_read.cmod");
    RealSamples.fetchedInto(dir, "ch_PP-OCRv4_rec_infer.onnx");
    RealSamples.fetchedInto(dir, "ppocr_keys_v1.txt");
    Path out = dir.resolve("out");
    assertEquals(
        0,
        Main.execute(
            "run",
            src.toString(),
            "--input",
            "image=" + RealSamples.sample("text_line.png"),
            "--output-dir",
            out.toString()));
    String want = Files.readString(RealSamples.sample("text_line.txt")).strip();
    assertEquals(want, Files.readString(out.resolve("text.txt")).strip());
    // the artifact's own best path (text_ids) is the argmax of its scores
    Tensor scores = Npy.read(out.resolve("text.npy"));
    long[] ids = Npy.read(out.resolve("text_ids.npy")).longs();
    int c = (int) scores.shape()[2];
    float[] p = scores.floats();
    for (int step = 0; step < ids.length; step++) {
      int best = 0;
      for (int k = 1; k < c; k++) {
        best = p[step * c + k] > p[step * c + best] ? k : best;
      }
      assertEquals(best, ids[step], "step " + step);
    }
  }

  @Test
  void theVadSampleFindsSpeechInEveryChunkAsTheOriginalDoes() throws Exception {
    Path src = RealSamples.stage(dir, "vad_clip.cmod");
    Path model = RealSamples.fetchedInto(dir, "silero_vad_v5.onnx");
    Path out = dir.resolve("out");
    assertEquals(
        0,
        Main.execute(
            "run",
            src.toString(),
            "--input",
            "clip=" + RealSamples.sample("speech16k.wav"),
            "--output-dir",
            out.toString()));
    float[] got = Npy.read(out.resolve("speech.npy")).floats();
    float[] audio = SileroVadSampleTest.read16kMono(RealSamples.sample("speech16k.wav"));
    int chunks = (audio.length + 511) / 512;
    assertEquals(chunks, got.length);
    Tensor sr = Tensor.ofLongs(DType.I64, new long[0], new long[] {16000});
    int speech = 0;
    int silent = 0;
    try (OnnxRunner original = OnnxRunner.open(model, OnnxRunner.Device.CPU)) {
      for (int c = 0; c < chunks; c++) {
        float[] x = new float[512];
        System.arraycopy(audio, c * 512, x, 0, Math.min(512, audio.length - c * 512));
        Map<String, Tensor> o =
            original.run(
                Map.of(
                    "input", Tensor.ofFloats(new long[] {1, 512}, x),
                    "state", Tensor.ofFloats(new long[] {2, 1, 128}, new float[256]),
                    "sr", sr));
        float want = RealSamples.output(o, "output").floats()[0];
        assertEquals(want, got[c], 1e-5, "chunk " + c);
        speech += want > 0.5 ? 1 : 0;
        silent += want < 0.1 ? 1 : 0;
      }
    }
    // the clip is speech, one second of digital silence (31 chunks), speech
    assertTrue(speech > 40 && silent >= 31, speech + " speech, " + silent + " silent chunks");
  }

  @Test
  void theSimilaritySampleTokenizesTwoSentencesAndComparesThem() throws Exception {
    Path src = RealSamples.stage(dir, "minilm_similarity.cmod");
    Path model = RealSamples.resourceInto(dir, "all-minilm-l6-v2.onnx");
    Path tokenizer = RealSamples.resourceInto(dir, "all-minilm-l6-v2-tokenizer.json");
    String a = "A cat sits on the mat.";
    String[] others = {"A kitten is lying on a rug.", "Stock markets fell sharply on Monday."};
    double[] sims = new double[2];
    for (int k = 0; k < 2; k++) {
      Path out = dir.resolve("out" + k);
      assertEquals(
          0,
          Main.execute(
              "run",
              src.toString(),
              "--input",
              "a=" + a,
              "--input",
              "b=" + others[k],
              "--output-dir",
              out.toString()));
      float[] ea = Npy.read(out.resolve("embedding_a.npy")).floats();
      float[] eb = Npy.read(out.resolve("embedding_b.npy")).floats();
      try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(tokenizer);
          OnnxRunner original = OnnxRunner.open(model, OnnxRunner.Device.CPU)) {
        assertClose(meanPooled(tok.encode(a), original), ea);
        assertClose(meanPooled(tok.encode(others[k]), original), eb);
      }
      sims[k] = Npy.read(out.resolve("similarity.npy")).floats()[0];
      assertEquals(cosine(ea, eb), sims[k], 1e-5);
    }
    assertTrue(sims[0] > sims[1] + 0.2, "similar " + sims[0] + " vs unrelated " + sims[1]);
  }

  private static float[] meanPooled(Encoding e, OnnxRunner original) {
    long[] ids = e.getIds();
    long[] s = {1, ids.length};
    Map<String, Tensor> o =
        original.run(
            Map.of(
                "input_ids", Tensor.ofLongs(DType.I64, s, ids),
                "attention_mask", Tensor.ofLongs(DType.I64, s, e.getAttentionMask()),
                "token_type_ids", Tensor.ofLongs(DType.I64, s, e.getTypeIds())));
    float[] h = RealSamples.output(o, "last_hidden_state").floats();
    float[] m = new float[384];
    for (int t = 0; t < ids.length; t++) {
      for (int j = 0; j < 384; j++) {
        m[j] += h[t * 384 + j] / ids.length;
      }
    }
    return m;
  }

  private static void assertClose(float[] want, float[] got) {
    assertEquals(want.length, got.length);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], 1e-5, "element " + i);
    }
  }

  private static double cosine(float[] a, float[] b) {
    double ab = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += b[i] * b[i];
    }
    return ab / Math.sqrt(aa * bb);
  }
}
