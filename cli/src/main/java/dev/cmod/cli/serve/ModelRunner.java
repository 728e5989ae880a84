package dev.cmod.cli.serve;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.RunAdapter;
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

  /** An ONNX Runtime session as a runner of the base model; closing it closes the session. */
  static ModelRunner of(OnnxRunner session) {
    return of(session, Map.of());
  }

  /**
   * An ONNX Runtime session whose runs apply the run-time adapter a request names (loaded and
   * checked against the artifact's adapter interface beforehand); closing the runner closes the
   * adapters and the session.
   */
  static ModelRunner of(OnnxRunner session, Map<String, RunAdapter> adapters) {
    return new ModelRunner() {
      @Override
      public Map<String, Tensor> run(Map<String, Tensor> feed, String adapter) {
        return adapter == null ? session.run(feed) : session.run(feed, adapters.get(adapter));
      }

      @Override
      public void close() {
        adapters.values().forEach(RunAdapter::close);
        session.close();
      }
    };
  }
}
