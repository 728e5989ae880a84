package dev.cmod.cli;

/** Process exit codes of {@code cmod}. */
public final class ExitCodes {
  public static final int OK = 0;
  public static final int ERRORS = 1;
  public static final int USAGE = 2;
  public static final int INTERNAL = 3;

  private ExitCodes() {}
}
