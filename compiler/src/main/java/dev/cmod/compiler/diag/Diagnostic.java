package dev.cmod.compiler.diag;

/** One finding about the user's program; {@code span} may be null for file-level problems. */
public record Diagnostic(
    DiagnosticCode code, Severity severity, Span span, String message, String help) {
  public static Diagnostic error(DiagnosticCode code, Span span, String message, String help) {
    return new Diagnostic(code, code.severity, span, message, help);
  }
}
