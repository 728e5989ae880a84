package dev.cmod.cli.data;

import dev.cmod.ir.io.SafeFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The text files a model names (tokenizers, vocabularies, label files, character lists), read the
 * one way: through {@link SafeFiles} with a size limit, strictly as UTF-8 (a file in another
 * encoding is refused rather than silently garbled), a leading byte order mark dropped.
 */
final class TextFiles {
  /** The largest text file read (a big tokenizer.json is a few tens of MB). */
  static final long MAX_BYTES = 256L << 20;

  private TextFiles() {}

  /** The whole file as a string; {@code what} names it in messages ("the label file"). */
  static String read(Path file, String what) {
    byte[] data;
    try {
      data = SafeFiles.readAll(file, SafeFiles.Policy.USER, MAX_BYTES);
    } catch (IOException e) {
      throw new DataException(
          "cannot read " + what + " " + file + ": " + SafeFiles.describe(e),
          "check the path: a file the model names is relative to its .cmod file, one given on"
              + " the command line to the current folder",
          e);
    }
    String s;
    try {
      s =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(data))
              .toString();
    } catch (CharacterCodingException e) {
      throw new DataException(
          what + " " + file + " is not UTF-8 text", "convert it to UTF-8 (iconv -t UTF-8)", e);
    }
    return s.startsWith("\uFEFF") ? s.substring(1) : s;
  }

  /**
   * The file's lines, as they are (no trimming): {@code \n} or {@code \r\n} ends a line, and the
   * newline after the last line does not start another one.
   */
  static List<String> lines(Path file, String what) {
    String s = read(file, what);
    List<String> out = new ArrayList<>();
    int at = 0;
    while (at < s.length()) {
      int nl = s.indexOf('\n', at);
      int end = nl < 0 ? s.length() : nl;
      String line = s.substring(at, end);
      out.add(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
      at = nl < 0 ? s.length() : nl + 1;
    }
    return out;
  }
}
