package dev.cmod.ir.io;

/** A tensor file could not be read or written; the message is written for users. */
public final class TensorFileException extends RuntimeException {
  public TensorFileException(String message) {
    super(message);
  }

  public TensorFileException(String message, Throwable cause) {
    super(message, cause);
  }
}
