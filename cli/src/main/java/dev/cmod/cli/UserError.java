package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;

/** A problem with what the user gave (a file, an input); printed as one line, exit code 1. */
final class UserError extends RuntimeException {
  final DiagnosticCode code;

  UserError(DiagnosticCode code, String message) {
    super(message);
    this.code = code;
  }
}
