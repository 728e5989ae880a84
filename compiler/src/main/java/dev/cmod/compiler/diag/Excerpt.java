package dev.cmod.compiler.diag;

/** Short excerpts of user-controlled text (names, keys, messages) for diagnostics. */
public final class Excerpt {
  private Excerpt() {}

  /**
   * {@code text} with control characters escaped and cut to about {@code max} characters, the cut
   * marked with the number of characters left out.
   */
  public static String of(String text, int max) {
    if (text == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder(Math.min(text.length(), max) + 32);
    int i = 0;
    for (; i < text.length() && sb.length() < max; i++) {
      char c = text.charAt(i);
      if (c == '\n' || c == '\t') {
        sb.append(c == '\n' && text.startsWith("  ", i + 1) ? "\n" : c == '\n' ? "\\n" : "\\t");
      } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    if (i < text.length()) {
      sb.append("... (").append(text.length() - i).append(" more characters)");
    }
    return sb.toString();
  }
}
