package dev.cmod.compiler.diag;

/** How bad a diagnostic is. */
public enum Severity {
  ERROR,
  WARNING,
  NOTE;

  public String text() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
