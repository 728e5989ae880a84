package dev.cmod.compiler.sema;

/**
 * Unwinds the evaluation of one expression after its diagnostic has been reported; the caller turns
 * it into {@link Val.ErrorV} so that independent statements are still checked.
 */
final class ElabError extends RuntimeException {
  static final ElabError INSTANCE = new ElabError();

  private ElabError() {
    super(null, null, false, false);
  }
}
