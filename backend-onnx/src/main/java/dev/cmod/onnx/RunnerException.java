package dev.cmod.onnx;

/** A failure to load or run a model on ONNX Runtime; the message is meant for users. */
public final class RunnerException extends RuntimeException {
  public RunnerException(String message) {
    super(message);
  }

  public RunnerException(String message, Throwable cause) {
    super(message, cause);
  }
}
