package dev.cmod.cli;

import dev.cmod.compiler.Compilation;

/**
 * Test-side access to the package-private {@link Explain#model} for tests in other packages (the
 * fuzz oracle in {@code dev.cmod.fuzz}). A plain call, not reflection: when the signature of {@code
 * Explain.model} changes, this file stops compiling instead of the oracle silently skipping {@code
 * explain}.
 */
public final class ExplainAccess {
  private ExplainAccess() {}

  /** What {@code cmod explain} prints for one compiled model. */
  public static String model(Compilation.Result r, boolean showAutoSource) {
    return Explain.model(r, showAutoSource);
  }
}
