package dev.cmod.api;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRunner;
import java.util.List;
import java.util.Map;

/**
 * A compiled model loaded in ONNX Runtime, for many runs: opening a session costs far more than a
 * small run, so a program that serves requests opens one and keeps it. Thread-safe (ONNX Runtime's
 * sessions are); close it to free the native memory.
 */
public final class Session implements AutoCloseable {
  private final OnnxRunner runner;

  Session(OnnxRunner runner) {
    this.runner = runner;
  }

  /** The inputs in the artifact's order. */
  public List<String> inputNames() {
    return runner.inputNames();
  }

  public List<String> outputNames() {
    return runner.outputNames();
  }

  /**
   * Runs the model on {@code inputs} (by name; every input, of its declared element type, one size
   * per symbolic dim) and returns every output by name.
   */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    return runner.run(inputs);
  }

  @Override
  public void close() {
    runner.close();
  }
}
