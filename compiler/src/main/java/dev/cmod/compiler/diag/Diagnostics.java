package dev.cmod.compiler.diag;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Collects diagnostics in report order, dropping exact duplicates. */
public final class Diagnostics {
  private final List<Diagnostic> list = new ArrayList<>();

  public void report(Diagnostic d) {
    for (Diagnostic o : list) {
      if (o.code() == d.code() && o.message().equals(d.message()) && java.util.Objects.equals(o.span(), d.span())) {
        return;
      }
    }
    list.add(d);
  }

  public void error(DiagnosticCode code, Span span, String message) {
    report(Diagnostic.error(code, span, message, null));
  }

  public void error(DiagnosticCode code, Span span, String message, String help) {
    report(Diagnostic.error(code, span, message, help));
  }

  public void note(DiagnosticCode code, Span span, String message) {
    report(new Diagnostic(code, Severity.NOTE, span, message, null));
  }

  public boolean hasErrors() {
    return list.stream().anyMatch(d -> d.severity() == Severity.ERROR);
  }

  public int errorCount() {
    return (int) list.stream().filter(d -> d.severity() == Severity.ERROR).count();
  }

  public List<Diagnostic> all() {
    return Collections.unmodifiableList(list);
  }

  public void addAll(Diagnostics other) {
    other.list.forEach(this::report);
  }
}
