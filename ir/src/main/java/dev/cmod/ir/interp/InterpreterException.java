package dev.cmod.ir.interp;

/** Bad input to the interpreter (missing input, wrong dtype or shape); the message is for users. */
public final class InterpreterException extends RuntimeException {
  public InterpreterException(String message) {
    super(message);
  }
}
