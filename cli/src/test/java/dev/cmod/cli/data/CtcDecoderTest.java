package dev.cmod.cli.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.cli.data.CtcDecoder.Blank;
import dev.cmod.cli.data.CtcDecoder.Result;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Greedy CTC decoding on score tensors whose best path is worked out by hand. */
class CtcDecoderTest {
  @TempDir Path dir;

  /**
   * A [T, C] tensor whose step t has {@code best[t]} scoring {@code p[t]}, the rest sharing 1 - p.
   */
  private static Tensor steps(int classes, int[] best, float[] p) {
    float[] f = new float[best.length * classes];
    for (int t = 0; t < best.length; t++) {
      for (int c = 0; c < classes; c++) {
        f[t * classes + c] = c == best[t] ? p[t] : (1 - p[t]) / (classes - 1);
      }
    }
    return Tensor.ofFloats(new long[] {best.length, classes}, f);
  }

  @Test
  void repeatsCollapseBlanksDropAndABlankSeparatesRepeats() {
    // classes: 0 blank, 1 'a', 2 'b', 3 'c', 4 ' '
    CtcDecoder d = CtcDecoder.of(List.of("a", "b", "c"), Blank.FIRST, true);
    assertEquals(5, d.classes());
    // path a a _ a b b _ _ ' ' c  ->  "aab c"
    int[] best = {1, 1, 0, 1, 2, 2, 0, 0, 4, 3};
    float[] p = {0.9f, 0.8f, 0.99f, 0.7f, 0.6f, 0.9f, 0.9f, 0.9f, 0.5f, 0.8f};
    Result r = d.decode(steps(5, best, p)).get(0);
    assertEquals("aab c", r.text());
    // kept steps: 0 (a, 0.9), 3 (a, 0.7), 4 (b, 0.6), 8 (' ', 0.5), 9 (c, 0.8)
    assertEquals((0.9f + 0.7f + 0.6f + 0.5f + 0.8f) / 5, r.confidence(), 1e-6);
  }

  @Test
  void aBatchAndAnEmptyText() {
    CtcDecoder d = CtcDecoder.of(List.of("x", "y"), Blank.FIRST, false);
    Tensor a = steps(3, new int[] {2, 0, 1}, new float[] {0.6f, 0.6f, 0.6f});
    Tensor b = steps(3, new int[] {0, 0, 0}, new float[] {0.6f, 0.6f, 0.6f});
    float[] both = new float[18];
    System.arraycopy(a.floats(), 0, both, 0, 9);
    System.arraycopy(b.floats(), 0, both, 9, 9);
    List<Result> r = d.decode(Tensor.ofFloats(new long[] {2, 3, 3}, both));
    assertEquals("yx", r.get(0).text());
    assertEquals(new Result("", 0f), r.get(1));
    assertEquals("yx\n\n", new String(CtcDecoder.toText(r), StandardCharsets.UTF_8));
  }

  @Test
  void theBlankLast() {
    CtcDecoder d = CtcDecoder.of(List.of("x", "y"), Blank.LAST, false);
    // classes: 0 'x', 1 'y', 2 blank
    assertEquals(
        "xx",
        d.decode(steps(3, new int[] {0, 2, 0, 0}, new float[] {.5f, .5f, .5f, .5f})).get(0).text());
  }

  @Test
  void aClassCountOtherThanTheListsIsRefusedWithAHint() throws Exception {
    Path dict = dir.resolve("dict.txt");
    Files.writeString(dict, "a\nb\n");
    CtcDecoder d = CtcDecoder.read(dict, Blank.FIRST, false);
    DataException e =
        assertThrows(
            DataException.class, () -> d.decode(Tensor.ofFloats(new long[] {1, 4}, new float[4])));
    assertTrue(e.getMessage().contains("4 classes per step"), e.getMessage());
    assertTrue(e.help().contains("use_space_char"), e.help());
    Files.writeString(dict, "a\n\nb\n");
    assertThrows(DataException.class, () -> CtcDecoder.read(dict, Blank.FIRST, false));
  }

  @Test
  void paddleOcrsDictionaryGivesTheRecognisersClasses() throws Exception {
    Path keys = Need.corpus("models/image/ppocr_keys_v1.txt");
    List<String> lines = Files.readAllLines(keys, StandardCharsets.UTF_8);
    CtcDecoder d = CtcDecoder.read(keys, Blank.FIRST, true);
    assertEquals(6625, d.classes(), "the recogniser's f32[N, T, 6625]");
    int[] best = {
      0, 1 + lines.indexOf("中"), 1 + lines.indexOf("中"), 0, 1 + lines.indexOf("文"), 6624
    };
    float[] p = {.9f, .9f, .9f, .9f, .9f, .9f};
    assertEquals("中文 ", d.decode(steps(6625, best, p)).get(0).text());
  }
}
