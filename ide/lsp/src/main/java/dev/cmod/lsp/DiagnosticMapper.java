package dev.cmod.lsp;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Severity;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.diag.Span;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.lsp4j.Diagnostic;
import org.eclipse.lsp4j.DiagnosticSeverity;
import org.eclipse.lsp4j.Position;
import org.eclipse.lsp4j.Range;
import org.eclipse.lsp4j.jsonrpc.messages.Either;

/** Compiler diagnostics to LSP diagnostics for one document. */
final class DiagnosticMapper {
  private DiagnosticMapper() {}

  /**
   * Converts the diagnostics of a compilation of {@code doc}. One whose span lies in another file
   * (an error inside a std module or an imported file) or has no span goes where the CONTEXT note
   * that follows it points, when that note is in this document (or where the last such note
   * pointed, since the compiler drops repeated notes), else on the first line; its message then
   * starts with its own location. A file that declares no model (a library of modules) gets CM0400
   * as information, not as an error.
   *
   * @param noModels whether the document declares no model
   */
  static List<Diagnostic> convert(
      List<dev.cmod.compiler.diag.Diagnostic> ds, SourceFile doc, boolean noModels) {
    List<Diagnostic> out = new ArrayList<>();
    boolean[] used = new boolean[ds.size()];
    Range lastContext = null;
    for (int i = 0; i < ds.size(); i++) {
      if (used[i]) {
        continue;
      }
      dev.cmod.compiler.diag.Diagnostic d = ds.get(i);
      Span s = d.span();
      Range range;
      String where = "";
      if (s != null && inDoc(s, doc)) {
        range = rangeOf(s);
      } else {
        range = null;
        // the CONTEXT notes right after it: the first one in this document gives the place
        for (int j = i + 1; j < ds.size() && ds.get(j).code() == DiagnosticCode.CONTEXT; j++) {
          Span n = ds.get(j).span();
          if (range == null && n != null && inDoc(n, doc)) {
            range = rangeOf(n);
            lastContext = range;
            used[j] = true;
          }
        }
        if (range == null) {
          // the compiler drops a note identical to an earlier one: errors from the same application
          // share the earlier note's place
          range = lastContext;
        }
        if (range == null) {
          range = new Range(new Position(0, 0), new Position(0, Lines.firstLineLength(doc.text())));
        }
        if (s != null) {
          where = s.file().name() + ":" + s.line() + ":" + s.column() + ": ";
        }
      }
      Diagnostic x = new Diagnostic();
      x.setRange(range);
      x.setSeverity(
          noModels && d.code() == DiagnosticCode.NO_MODEL
              ? DiagnosticSeverity.Information
              : severity(d.severity()));
      if (d.code() != DiagnosticCode.CONTEXT) {
        x.setCode(Either.forLeft(d.code().id()));
      }
      x.setSource("cmod");
      x.setMessage(where + d.message() + (d.help() != null ? "\nhelp: " + d.help() : ""));
      out.add(x);
    }
    return out;
  }

  static DiagnosticSeverity severity(Severity s) {
    switch (s) {
      case ERROR:
        return DiagnosticSeverity.Error;
      case WARNING:
        return DiagnosticSeverity.Warning;
      default:
        return DiagnosticSeverity.Information;
    }
  }

  private static boolean inDoc(Span s, SourceFile doc) {
    return s.file() == doc
        || (s.file().name().equals(doc.name()) && s.file().text().equals(doc.text()));
  }

  /** Span lines and columns are 1-based; LSP's are 0-based. */
  static Range rangeOf(Span s) {
    SourceFile f = s.file();
    int end = Math.max(s.start(), Math.min(s.end(), f.text().length()));
    Position a = new Position(s.line() - 1, s.column() - 1);
    Position b = new Position(f.lineOf(end) - 1, f.columnOf(end) - 1);
    return new Range(a, b);
  }
}
