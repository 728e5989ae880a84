package dev.cmod.cli.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.cli.data.ClassScores.Ranked;
import dev.cmod.cli.data.ClassScores.Scale;
import dev.cmod.ir.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassScoresTest {
  @TempDir Path dir;

  private LabelFile labels() throws Exception {
    Path p = dir.resolve("labels.txt");
    Files.writeString(p, "cat\ndog\n\"bird\"\n");
    return LabelFile.read(p);
  }

  @Test
  void softmaxTopKByHand() throws Exception {
    // logits (1, 2, 0): exp = e, e^2, 1; sum = 11.107337927389695
    Tensor t = Tensor.ofFloats(new long[] {3}, new float[] {1, 2, 0});
    List<Ranked> r = ClassScores.topK(t, labels(), 2, Scale.SOFTMAX).get(0);
    assertEquals(2, r.size());
    assertEquals(new Ranked(1, "dog", (float) (Math.exp(2) / 11.107337927389695)), r.get(0));
    assertEquals(new Ranked(0, "cat", (float) (Math.exp(1) / 11.107337927389695)), r.get(1));
    assertEquals(0.66524096f, r.get(0).score(), 1e-7);
  }

  @Test
  void rawScoresBatchesAndTies() throws Exception {
    Tensor t = Tensor.ofFloats(new long[] {2, 3}, new float[] {0.2f, 0.5f, 0.3f, 0.4f, 0.2f, 0.4f});
    List<List<Ranked>> r = ClassScores.topK(t, labels(), 5, Scale.RAW);
    assertEquals(
        List.of(
            new Ranked(1, "dog", 0.5f),
            new Ranked(2, "\"bird\"", 0.3f),
            new Ranked(0, "cat", 0.2f)),
        r.get(0));
    assertEquals(0, r.get(1).get(0).index(), "a tie keeps the class order");
    assertEquals(2, r.get(1).get(1).index());
    String json = new String(ClassScores.toJson(r.subList(0, 1), false), StandardCharsets.UTF_8);
    assertEquals(
        "[\n  {\n    \"label\": \"dog\",\n    \"index\": 1,\n    \"score\": 0.5\n  },\n"
            + "  {\n    \"label\": \"\\\"bird\\\"\",\n    \"index\": 2,\n    \"score\": 0.3\n  },\n"
            + "  {\n    \"label\": \"cat\",\n    \"index\": 0,\n    \"score\": 0.2\n  }\n]\n",
        json);
    String batch = new String(ClassScores.toJson(r, true), StandardCharsets.UTF_8);
    assertTrue(batch.startsWith("[\n  [\n    {"), batch);
  }

  @Test
  void aClassCountOtherThanTheLabelsIsRefused() throws Exception {
    Tensor t = Tensor.ofFloats(new long[] {4}, new float[4]);
    DataException e =
        assertThrows(DataException.class, () -> ClassScores.topK(t, labels(), 1, Scale.RAW));
    assertTrue(e.getMessage().contains("4 classes, the label file names 3"), e.getMessage());
    Tensor ids = Tensor.ofLongs(new long[] {3}, new long[3]);
    assertThrows(DataException.class, () -> ClassScores.topK(ids, labels(), 1, Scale.RAW));
  }
}
