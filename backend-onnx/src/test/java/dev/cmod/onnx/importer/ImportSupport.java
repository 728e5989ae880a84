package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.EmitOptions;
import dev.cmod.onnx.OnnxEmitter;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.testkit.Need;
import java.nio.file.Path;
import java.util.Map;

/** Shared helpers of the importer tests. */
final class ImportSupport {
  private ImportSupport() {}

  /**
   * A file of the shared corpora ({@link Need#corpus}): skips the test, or fails it in CI, when
   * absent.
   */
  static Path corpus(String relative) {
    return Need.corpus(relative);
  }

  static Map<String, Tensor> runEmitted(Graph g, Map<String, Tensor> feeds) {
    return runModel(OnnxEmitter.emit(g, EmitOptions.defaults()), feeds);
  }

  static Map<String, Tensor> runModel(byte[] model, Map<String, Tensor> feeds) {
    try (OnnxRunner r = OnnxRunner.open(model, OnnxRunner.Device.CPU)) {
      return r.run(feeds);
    }
  }

  /**
   * The largest absolute difference; infinity when the shapes or dtypes differ or only one side is
   * NaN.
   */
  static double maxAbsDiff(Tensor a, Tensor b) {
    if (a.dtype() != b.dtype() || !java.util.Arrays.equals(a.shape(), b.shape())) {
      return Double.POSITIVE_INFINITY;
    }
    double m = 0;
    for (int i = 0; i < a.size(); i++) {
      double x = a.get(i);
      double y = b.get(i);
      if (Double.isNaN(x) && Double.isNaN(y) || x == y) {
        continue; // for the message only: close() decides whether NaN matches NaN
      }
      m =
          Double.isNaN(x) || Double.isNaN(y)
              ? Double.POSITIVE_INFINITY
              : Math.max(m, Math.abs(x - y));
    }
    return m;
  }

  /**
   * Within |a - b| <= atol + rtol |b| everywhere; equal infinities match, and a NaN output matches
   * a NaN expectation only when {@code nanMatchesNaN} (a test whose reference data expects NaN says
   * so).
   */
  static boolean close(Tensor got, Tensor want, double rtol, double atol, boolean nanMatchesNaN) {
    if (got.dtype() != want.dtype() || !java.util.Arrays.equals(got.shape(), want.shape())) {
      return false;
    }
    for (int i = 0; i < want.size(); i++) {
      double w = want.get(i);
      double h = got.get(i);
      if (Double.isNaN(w) || Double.isNaN(h)) {
        if (nanMatchesNaN && Double.isNaN(w) && Double.isNaN(h)) {
          continue;
        }
        return false;
      }
      if (w != h && !(Math.abs(w - h) <= atol + rtol * Math.abs(w))) {
        return false;
      }
    }
    return true;
  }
}
