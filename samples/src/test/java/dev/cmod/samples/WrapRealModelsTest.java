package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.cli.Main;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.Need;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real pretrained models through {@code cmod wrap} as a user would: wrap the file, compile the
 * wrapper at -O0 and -O2, and compare its outputs with the original file's on ONNX Runtime for the
 * same inputs (1e-5).
 */
class WrapRealModelsTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(
      strings = {
        "models/image/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        "models/image/ch_PP-OCRv4_rec_infer.onnx"
      })
  void theWrapperEqualsTheOriginal(String corpusPath) throws Exception {
    Path model = dir.resolve("model.onnx");
    Files.copy(Need.corpus(corpusPath), model);
    Path w = dir.resolve("wrapped.cmod");
    assertEquals(0, Main.execute("wrap", model.toString(), "-o", w.toString()));
    byte[] original = Files.readAllBytes(model);
    for (int level : new int[] {0, 2}) {
      E2E.Built b = E2E.compileFile(w, E2E.opts(level));
      Map<String, Long> sizes = new java.util.HashMap<>();
      for (String s : b.graph().symbols().keySet()) {
        sizes.put(s, s.equals("batch") ? 2L : 64L);
      }
      Map<String, Tensor> in = E2E.inputs(b, sizes, 7);
      Map<String, Tensor> want = E2E.runOrt(original, in);
      Map<String, Tensor> got = E2E.runOrt(b.onnx(), in);
      // outputs in the file's order; their names became identifiers (softmax_0.tmp_0 ->
      // softmax_0_tmp_0)
      java.util.List<String> ws = new java.util.ArrayList<>(want.keySet());
      java.util.List<String> gs = new java.util.ArrayList<>(got.keySet());
      assertEquals(ws.size(), gs.size());
      for (int i = 0; i < ws.size(); i++) {
        assertEquals(ws.get(i).replaceAll("[^A-Za-z0-9_]", "_"), gs.get(i));
        E2E.assertClose(
            want.get(ws.get(i)), got.get(gs.get(i)), 1e-5, 1e-5, corpusPath + " -O" + level);
      }
    }
  }

  /**
   * Silero VAD v5 (an {@code If} with LSTM and Pad inside, carried opaque; a scalar {@code sr}; a
   * state with its batch on axis 1; outputs whose dims the file does not record): the wrapper run
   * on one 512-sample chunk of 16 kHz audio with a zero state equals the original.
   */
  @org.junit.jupiter.api.Test
  void sileroVadWrappedEqualsTheOriginal() throws Exception {
    Path model = dir.resolve("vad.onnx");
    Files.copy(Need.corpus("models/audio/silero_vad_v5.onnx"), model);
    Path w = dir.resolve("vad.cmod");
    assertEquals(0, Main.execute("wrap", model.toString(), "-o", w.toString()));
    String text = Files.readString(w);
    org.junit.jupiter.api.Assertions.assertTrue(
        text.contains("input sr: exact i64[]") && text.contains("input state: exact f32[2, "),
        text);
    float[] chunk = new float[512];
    java.util.Random rng = new java.util.Random(5);
    for (int i = 0; i < chunk.length; i++) {
      chunk[i] = (float) (0.3 * Math.sin(i * 0.07) + 0.05 * rng.nextGaussian());
    }
    List<Tensor> feed =
        List.of(
            Tensor.ofFloats(new long[] {1, 512}, chunk),
            Tensor.ofFloats(new long[] {2, 1, 128}, new float[256]),
            Tensor.ofLongs(DType.I64, new long[0], new long[] {16000}));
    byte[] original = Files.readAllBytes(model);
    Map<String, Tensor> want =
        E2E.runOrt(original, Map.of("input", feed.get(0), "state", feed.get(1), "sr", feed.get(2)));
    for (int level : new int[] {0, 2}) {
      E2E.Built b = E2E.compileFile(w, E2E.opts(level));
      Map<String, Tensor> in = new java.util.LinkedHashMap<>();
      List<dev.cmod.ir.graph.Node> ins = b.graph().inputs();
      for (int i = 0; i < ins.size(); i++) {
        in.put(ins.get(i).attrs().getString("name"), feed.get(i));
      }
      List<Tensor> got = List.copyOf(E2E.runOrt(b.onnx(), in).values());
      List<Tensor> ws = List.copyOf(want.values());
      assertEquals(ws.size(), got.size());
      for (int i = 0; i < ws.size(); i++) {
        E2E.assertClose(ws.get(i), got.get(i), 1e-5, 1e-5, "silero -O" + level + " output " + i);
      }
    }
  }
}
