package dev.cmod.compiler.diag;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Collects diagnostics in report order, dropping exact duplicates (in constant time each). At most
 * {@link #MAX_ERRORS} errors are kept; later ones are only counted ({@link #suppressed()}), so a
 * file with a hundred thousand mistakes is reported in linear time. Messages and help texts are cut
 * to a short excerpt, so user text (a huge name or key) is never echoed in full.
 */
public final class Diagnostics {
  /** Errors kept and shown; the rest are counted. */
  public static final int MAX_ERRORS = 100;

  /** Longest message or help text kept (characters). */
  public static final int MAX_MESSAGE = 1000;

  private final List<Diagnostic> list = new ArrayList<>();
  private final java.util.Set<List<Object>> seen = new java.util.HashSet<>();
  private int errors;
  private int suppressed;

  public void report(Diagnostic d) {
    if (d.message().length() > MAX_MESSAGE
        || (d.help() != null && d.help().length() > MAX_MESSAGE)) {
      d =
          new Diagnostic(
              d.code(),
              d.severity(),
              d.span(),
              Excerpt.of(d.message(), MAX_MESSAGE),
              d.help() == null ? null : Excerpt.of(d.help(), MAX_MESSAGE));
    }
    if (!seen.add(
        java.util.Arrays.asList(d.code(), d.message(), d.span() == null ? "" : d.span()))) {
      return;
    }
    if (d.severity() == Severity.ERROR) {
      errors++;
      if (errors > MAX_ERRORS) {
        suppressed++;
        return;
      }
    } else if (errors > MAX_ERRORS) {
      return; // notes that belong to suppressed errors
    }
    list.add(d);
  }

  /** Records {@code n} further errors that a caller counted but did not report one by one. */
  public void countSuppressed(int n) {
    if (n > 0) {
      errors += n;
      suppressed += n;
    }
  }

  /** Errors reported but not kept (over {@link #MAX_ERRORS}). */
  public int suppressed() {
    return suppressed;
  }

  /** Whether further errors would only be counted (callers may skip expensive suggestions). */
  public boolean saturated() {
    return errors >= MAX_ERRORS;
  }

  public void error(DiagnosticCode code, Span span, String message) {
    report(Diagnostic.error(code, span, message, null));
  }

  public void error(DiagnosticCode code, Span span, String message, String help) {
    report(Diagnostic.error(code, span, message, help));
  }

  public void warning(DiagnosticCode code, Span span, String message) {
    report(new Diagnostic(code, Severity.WARNING, span, message, null));
  }

  public void note(DiagnosticCode code, Span span, String message) {
    report(new Diagnostic(code, Severity.NOTE, span, message, null));
  }

  public boolean hasErrors() {
    return errors > 0;
  }

  /** Every error reported, shown or not. */
  public int errorCount() {
    return errors;
  }

  public List<Diagnostic> all() {
    return Collections.unmodifiableList(list);
  }

  public void addAll(Diagnostics other) {
    other.list.forEach(this::report);
    countSuppressed(other.suppressed);
  }
}
