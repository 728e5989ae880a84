package dev.cmod.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.cli.data.TextTokenizer.Encoded;
import dev.cmod.cli.data.TextTokenizer.Fit;
import dev.cmod.cli.data.TextTokenizer.Padding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The character-level vocabulary, against ids counted by hand from the file's lines. */
class CharTokenizerTest {
  @TempDir Path dir;

  /** ids: <pad> 0, <unk> 1, a 2, b 3, c 4, ' ' 5, é 6, 😀 7. */
  private Path vocab() throws Exception {
    Path p = dir.resolve("chars.txt");
    Files.writeString(p, "\uFEFF<pad>\r\n<unk>\r\na\nb\nc\n \né\n😀\n");
    return p;
  }

  @Test
  void eachCharacterIsItsLine() throws Exception {
    try (TextTokenizer t = TextTokenizer.characters(vocab(), "<unk>", "<pad>")) {
      assertEquals(8, t.vocabSize());
      Encoded e = t.encode(List.of("ab c", "é😀"), new Fit(6, Padding.BOUND));
      assertArrayEquals(new long[] {2, 3, 5, 4, 0, 0}, e.ids()[0]);
      assertArrayEquals(new long[] {1, 1, 1, 1, 0, 0}, e.mask()[0]);
      assertArrayEquals(new long[] {6, 7, 0, 0, 0, 0}, e.ids()[1], "one id per code point");
      assertArrayEquals(new long[6], e.typeIds()[1]);
      assertEquals("ab c", t.decode(e.ids()[0]));
      assertEquals("é😀", t.decode(e.ids()[1]));
      Encoded l = t.encode(List.of("ab c", "é😀"), new Fit(6, Padding.LONGEST));
      assertEquals(4, l.length());
      assertArrayEquals(new long[] {6, 7, 0, 0}, l.ids()[1]);
    }
  }

  @Test
  void anUnknownCharacterIsTheUnkTokenOrAnError() throws Exception {
    try (TextTokenizer t = TextTokenizer.characters(vocab(), "<unk>", null)) {
      assertArrayEquals(new long[] {2, 1, 3}, t.encode("axb", new Fit(3, Padding.BOUND)).ids()[0]);
    }
    try (TextTokenizer t = TextTokenizer.characters(vocab(), null, null)) {
      DataException e =
          assertThrows(
              DataException.class, () -> t.encode(List.of("ab", "axb"), new Fit(4, Padding.BOUND)));
      assertTrue(e.getMessage().contains("'x' (U+0078) at position 2 of text 2"), e.getMessage());
      assertTrue(e.help().contains("unk"), e.help());
    }
  }

  @Test
  void truncationIsReported() throws Exception {
    try (TextTokenizer t = TextTokenizer.characters(vocab(), null, "<pad>")) {
      Encoded e = t.encode("abcabc", new Fit(4, Padding.BOUND));
      assertArrayEquals(new long[] {2, 3, 4, 2}, e.ids()[0]);
      assertTrue(e.truncated()[0]);
      assertEquals(6, e.tokens()[0]);
      assertFalse(t.encode("abc", new Fit(4, Padding.BOUND)).anyTruncated());
    }
  }

  @Test
  void malformedVocabulariesAreRefused() throws Exception {
    Path dup = dir.resolve("dup.txt");
    Files.writeString(dup, "a\nb\na\n");
    assertTrue(
        assertThrows(DataException.class, () -> TextTokenizer.characters(dup, null, null))
            .getMessage()
            .contains("lines 1 and 3"));
    Path empty = dir.resolve("empty-line.txt");
    Files.writeString(empty, "a\n\nb\n");
    assertTrue(
        assertThrows(DataException.class, () -> TextTokenizer.characters(empty, null, null))
            .getMessage()
            .contains("line 2"));
    assertTrue(
        assertThrows(DataException.class, () -> TextTokenizer.characters(vocab(), "<oov>", null))
            .getMessage()
            .contains("'<oov>' is not in"));
    Path latin1 = dir.resolve("latin1.txt");
    Files.write(latin1, new byte[] {'a', '\n', (byte) 0xE9, '\n'});
    assertTrue(
        assertThrows(DataException.class, () -> TextTokenizer.characters(latin1, null, null))
            .getMessage()
            .contains("not UTF-8"));
  }

  @Test
  void aTextFileLosesItsFinalLineEndOnly() throws Exception {
    Path p = dir.resolve("caption.txt");
    Files.writeString(p, "\uFEFFa b\n\nc\r\n");
    assertEquals("a b\n\nc", TextTokenizer.readText(p));
    Files.writeString(p, "no line end");
    assertEquals("no line end", TextTokenizer.readText(p));
  }
}
