package dev.cmod.cli.data;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cmod.cli.data.CtcDecoder.Blank;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed files for every reader of this package: seeded random bytes (text-like lines, invalid
 * UTF-8, byte order marks, CR, NUL) and broken tokenizer JSON. A reader may accept a file or refuse
 * it with a {@link DataException}; any other exception (or a crash of the native tokenizer) is a
 * bug.
 */
class HostileDataFilesTest {
  @TempDir Path dir;

  private static byte[] randomFile(Random r) {
    String[] pieces = {"a", "cat", " ", "\n", "\r\n", "\r", "\uFEFF", "é", "😀", "\u0000", "dog"};
    StringBuilder sb = new StringBuilder();
    int n = r.nextInt(12);
    for (int i = 0; i < n; i++) {
      sb.append(pieces[r.nextInt(pieces.length)]);
    }
    byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
    if (r.nextInt(4) == 0 && b.length > 0) {
      b[r.nextInt(b.length)] = (byte) (0x80 + r.nextInt(0x80)); // likely invalid UTF-8
    }
    return b;
  }

  private void eachFile(int count, long seed, Consumer<Path> reader) throws Exception {
    Random r = new Random(seed);
    for (int i = 0; i < count; i++) {
      Path p = dir.resolve("f" + i + ".txt");
      byte[] data = randomFile(r);
      Files.write(p, data);
      try {
        reader.accept(p);
      } catch (DataException expected) {
        // refused with a message: fine
      } catch (RuntimeException e) {
        fail("file " + new String(data, StandardCharsets.ISO_8859_1) + " gave " + e, e);
      }
    }
  }

  @Test
  void lineFilesAreReadOrRefused() throws Exception {
    eachFile(300, 1, LabelFile::read);
    eachFile(
        300,
        2,
        p -> {
          try (TextTokenizer t = TextTokenizer.characters(p, null, null)) {
            t.encode(List.of("cat", "dög"), new TextTokenizer.Fit(4, TextTokenizer.Padding.BOUND));
          }
        });
    eachFile(300, 3, p -> CtcDecoder.read(p, Blank.FIRST, true));
    eachFile(100, 4, p -> TextTokenizer.wordPiece(p, true).close());
    eachFile(100, 5, p -> TextTokenizer.readText(p));
  }

  @Test
  void brokenTokenizerJsonIsRefused() throws Exception {
    String ok =
        "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"normalizer\": null,"
            + " \"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"post_processor\": null, \"decoder\":"
            + " null, \"added_tokens\": [], \"model\": {\"type\": \"WordLevel\", \"vocab\":"
            + " {\"<unk>\": 0, \"a\": 1}, \"unk_token\": \"<unk>\"}}";
    List<String> broken =
        List.of(
            ok.substring(0, ok.length() / 2),
            ok.replace("WordLevel", "NoSuchModel"),
            ok.replace("\"a\": 1", "\"a\": \"one\""),
            ok.replace("\"a\": 1", "\"a\": -4"),
            ok.replace("\"a\": 1", "\"a\": 1e30"),
            ok.replace("\"unk_token\": \"<unk>\"", "\"unk_token\": 7"),
            ok.replace("{\"type\": \"Whitespace\"}", "{\"type\": \"Bogus\"}"),
            ok.replace("\"vocab\": {\"<unk>\": 0, \"a\": 1}", "\"vocab\": {}"),
            "[]",
            "");
    for (String json : broken) {
      Path p = dir.resolve("tokenizer.json");
      Files.writeString(p, json);
      assertThrows(DataException.class, () -> TextTokenizer.huggingFace(p).close(), json);
    }
  }
}
