package dev.cmod.compiler.diag;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;

/** Renders diagnostics for people (rustc-like, with the source line and a caret) or as JSON. */
public final class DiagnosticRenderer {
  /** Longest source excerpt shown under a diagnostic (characters). */
  static final int MAX_LINE = 160;

  private DiagnosticRenderer() {}

  public static String human(Diagnostic d) {
    StringBuilder sb = new StringBuilder();
    Span s = d.span();
    if (s != null) {
      sb.append(s.file().name())
          .append(':')
          .append(s.line())
          .append(':')
          .append(s.column())
          .append(": ");
    }
    sb.append(d.severity().text());
    if (d.code() != DiagnosticCode.CONTEXT) {
      sb.append('[').append(d.code().id()).append(']');
    }
    sb.append(": ").append(d.message()).append('\n');
    if (s != null) {
      int line = s.line();
      String text = s.file().lineText(line);
      int col = Math.max(0, Math.min(s.column() - 1, text.length()));
      int width = Math.max(1, Math.min(s.end() - s.start(), text.length() - col));
      // a long line is shown as a window around the span, so a huge line is never echoed whole
      int from = 0;
      int to = text.length();
      if (text.length() > MAX_LINE) {
        from = Math.max(0, col - MAX_LINE / 2);
        to = Math.min(text.length(), from + MAX_LINE);
        width = Math.max(1, Math.min(width, to - col));
      }
      String shown =
          (from > 0 ? "..." : "") + text.substring(from, to) + (to < text.length() ? "..." : "");
      int shownCol = col - from + (from > 0 ? 3 : 0);
      String no = Integer.toString(line);
      String pad = " ".repeat(no.length());
      sb.append(pad).append(" |\n");
      sb.append(no).append(" | ").append(expandTabs(shown)).append('\n');
      sb.append(pad)
          .append(" | ")
          .append(caretIndent(shown, shownCol))
          .append("^".repeat(width))
          .append('\n');
    }
    if (d.help() != null) {
      sb.append("  = help: ").append(d.help()).append('\n');
    }
    return sb.toString();
  }

  private static String expandTabs(String s) {
    return s.replace("\t", "    ");
  }

  private static String caretIndent(String text, int col) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < col && i < text.length(); i++) {
      sb.append(text.charAt(i) == '\t' ? "    " : " ");
    }
    return sb.toString();
  }

  public static String json(List<Diagnostic> ds) {
    JsonArray arr = new JsonArray();
    for (Diagnostic d : ds) {
      JsonObject o = new JsonObject();
      o.addProperty("code", d.code().id());
      o.addProperty("severity", d.severity().text());
      o.addProperty("message", d.message());
      if (d.span() != null) {
        o.addProperty("file", d.span().file().name());
        o.addProperty("line", d.span().line());
        o.addProperty("column", d.span().column());
        Span s = d.span();
        o.addProperty("endLine", s.file().lineOf(Math.max(s.start(), s.end() - 1)));
        o.addProperty("endColumn", s.file().columnOf(Math.max(s.start(), s.end() - 1)) + 1);
      }
      if (d.help() != null) {
        o.addProperty("help", d.help());
      }
      arr.add(o);
    }
    return arr.toString();
  }
}
