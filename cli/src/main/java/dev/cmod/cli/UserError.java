package dev.cmod.cli;

/** A problem with what the user gave (a file, an input); printed as one line, exit code 1. */
final class UserError extends RuntimeException {
  final String code;

  UserError(String code, String message) {
    super(message);
    this.code = code;
  }
}
