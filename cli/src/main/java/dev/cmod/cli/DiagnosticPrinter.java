package dev.cmod.cli;

import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.DiagnosticRenderer;
import dev.cmod.compiler.diag.Diagnostics;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints a compilation's diagnostics to {@code cmod}'s error stream, as text for people or as one
 * JSON array for tools ({@code --error-format}); the same for every command.
 */
final class DiagnosticPrinter {
  private DiagnosticPrinter() {}

  static void print(Diagnostics d, String format) {
    if ("json".equals(format)) {
      List<Diagnostic> all = new ArrayList<>(d.all());
      if (d.suppressed() > 0) {
        // the errors past the shown ones, as one note (tools see the count, not a truncated list)
        all.add(
            new Diagnostic(
                DiagnosticCode.CONTEXT,
                dev.cmod.compiler.diag.Severity.NOTE,
                null,
                "and "
                    + d.suppressed()
                    + " more error"
                    + (d.suppressed() == 1 ? "" : "s")
                    + " not shown ("
                    + d.errorCount()
                    + " in all)",
                null));
      }
      Main.err.println(DiagnosticRenderer.json(all));
      return;
    }
    for (Diagnostic x : d.all()) {
      Main.err.print(DiagnosticRenderer.human(x));
    }
    if (d.suppressed() > 0) {
      int shown = d.errorCount() - d.suppressed();
      Main.err.println(
          "error: and "
              + d.suppressed()
              + " more error"
              + (d.suppressed() == 1 ? "" : "s")
              + " (the first "
              + shown
              + " are shown)");
    }
    if (d.hasErrors()) {
      int n = d.errorCount();
      Main.err.println("error: could not compile: " + n + " error" + (n == 1 ? "" : "s"));
    }
  }
}
