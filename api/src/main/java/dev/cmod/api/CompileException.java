package dev.cmod.api;

import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.DiagnosticRenderer;
import dev.cmod.compiler.diag.Diagnostics;
import java.util.List;

/**
 * A program that does not compile: its message is the diagnostics as {@code cmod compile} prints
 * them ({@code file:line:col: error[CMxxxx]: ...} with excerpts and help), and {@link
 * #diagnostics()} gives them one by one for a program that shows them its own way. Unchecked: a
 * caller that compiles fixed sources need not catch it.
 */
public final class CompileException extends RuntimeException {
  private final transient List<Diagnostic> diagnostics;

  CompileException(Diagnostics d) {
    super(render(d));
    this.diagnostics = List.copyOf(d.all());
  }

  /** Every diagnostic of the failed compilation, errors and warnings, in the compiler's order. */
  public List<Diagnostic> diagnostics() {
    return diagnostics;
  }

  private static String render(Diagnostics d) {
    StringBuilder b = new StringBuilder();
    for (Diagnostic x : d.all()) {
      b.append(DiagnosticRenderer.human(x));
    }
    if (d.suppressed() > 0) {
      b.append("and ").append(d.suppressed()).append(" more errors\n");
    }
    return b.toString();
  }
}
