package dev.cmod.cli.serve;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRunner;
import java.util.Map;

/**
 * What the server runs a (possibly merged) batch on: an ONNX Runtime session in {@code cmod serve},
 * a gated or failing one in tests. Closed once, after the last batch.
 */
public interface ModelRunner extends AutoCloseable {
  /**
   * Runs the model.
   *
   * @param feed a tensor for every model input
   * @param adapter the run-time adapter the requests asked for (null: the base model); every
   *     request of one batch asked for the same one
   * @return every output by name
   */
  Map<String, Tensor> run(Map<String, Tensor> feed, String adapter);

  @Override
  void close();

  /**
   * An ONNX Runtime session as a runner (adapters are not applied yet: the session runs the base
   * model); closing the runner closes the session.
   */
  static ModelRunner of(OnnxRunner session) {
    return new ModelRunner() {
      @Override
      public Map<String, Tensor> run(Map<String, Tensor> feed, String adapter) {
        return session.run(feed);
      }

      @Override
      public void close() {
        session.close();
      }
    };
  }
}
