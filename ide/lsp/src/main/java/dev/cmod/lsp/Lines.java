package dev.cmod.lsp;

import org.eclipse.lsp4j.Position;

/** Conversions between character offsets and LSP positions (0-based line, UTF-16 column). */
final class Lines {
  private Lines() {}

  /** The offset of a position, clamped to the text (a column past the line's end is its end). */
  static int offset(String text, Position p) {
    int line = Math.max(0, p.getLine());
    int i = 0;
    for (int l = 0; l < line; l++) {
      int nl = nextBreak(text, i);
      if (nl < 0) {
        return text.length();
      }
      i = nl + (text.startsWith("\r\n", nl) ? 2 : 1);
    }
    int end = nextBreak(text, i);
    if (end < 0) {
      end = text.length();
    }
    return Math.min(i + Math.max(0, p.getCharacter()), end);
  }

  /**
   * The position of an offset; \n, \r\n and a lone \r end lines, as in the compiler's SourceFile.
   */
  static Position position(String text, int offset) {
    int o = Math.max(0, Math.min(offset, text.length()));
    int line = 0;
    int start = 0;
    for (int i = 0; i < o; i++) {
      char c = text.charAt(i);
      if (c == '\n' || (c == '\r' && (i + 1 >= text.length() || text.charAt(i + 1) != '\n'))) {
        line++;
        start = i + 1;
      }
    }
    return new Position(line, o - start);
  }

  /** Length of the first line, without its break. */
  static int firstLineLength(String text) {
    int e = nextBreak(text, 0);
    return e < 0 ? text.length() : e;
  }

  /** [start, end) of the identifier-like word at or just before an offset, or null. */
  static int[] wordAt(String text, int offset) {
    int s = Math.max(0, Math.min(offset, text.length()));
    if ((s >= text.length() || !isWord(text.charAt(s))) && s > 0 && isWord(text.charAt(s - 1))) {
      s--; // the cursor right after a word
    }
    if (s >= text.length() || !isWord(text.charAt(s))) {
      return null;
    }
    int e = s;
    while (s > 0 && isWord(text.charAt(s - 1))) {
      s--;
    }
    while (e < text.length() && isWord(text.charAt(e))) {
      e++;
    }
    return new int[] {s, e};
  }

  private static boolean isWord(char c) {
    return c == '_' || (c < 128 && Character.isLetterOrDigit(c));
  }

  private static int nextBreak(String text, int from) {
    for (int i = from; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\n' || c == '\r') {
        return i;
      }
    }
    return -1;
  }
}
