package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.EmitOptions;
import dev.cmod.onnx.OnnxEmitter;
import dev.cmod.onnx.OnnxRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Shared helpers of the importer tests. */
final class ImportSupport {
  private ImportSupport() {}

  /** A file of the shared corpora, looked up beside the checkout and at /work/shared; null when absent. */
  static Path corpus(String relative) {
    for (Path base : new Path[] {Path.of("../../shared/corpora"), Path.of("../shared/corpora"),
        Path.of("/work/shared/corpora")}) {
      Path p = base.resolve(relative);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    return null;
  }

  static Map<String, Tensor> runEmitted(Graph g, Map<String, Tensor> feeds) {
    return runModel(OnnxEmitter.emit(g, EmitOptions.defaults()), feeds);
  }

  static Map<String, Tensor> runModel(byte[] model, Map<String, Tensor> feeds) {
    try (OnnxRunner r = OnnxRunner.open(model, OnnxRunner.Device.CPU)) {
      return r.run(feeds);
    }
  }

  /** The largest absolute difference; infinity when the shapes or dtypes differ. */
  static double maxAbsDiff(Tensor a, Tensor b) {
    if (a.dtype() != b.dtype() || !java.util.Arrays.equals(a.shape(), b.shape())) {
      return Double.POSITIVE_INFINITY;
    }
    double m = 0;
    for (int i = 0; i < a.size(); i++) {
      double x = a.get(i);
      double y = b.get(i);
      if (Double.isNaN(x) && Double.isNaN(y) || x == y) {
        continue;
      }
      m = Math.max(m, Math.abs(x - y));
    }
    return m;
  }

  /** Within |a - b| <= atol + rtol |b| everywhere (NaNs and equal infinities match). */
  static boolean close(Tensor got, Tensor want, double rtol, double atol) {
    if (got.dtype() != want.dtype() || !java.util.Arrays.equals(got.shape(), want.shape())) {
      return false;
    }
    for (int i = 0; i < want.size(); i++) {
      double w = want.get(i);
      double h = got.get(i);
      if (Double.isNaN(w) && Double.isNaN(h) || w == h) {
        continue;
      }
      if (!(Math.abs(w - h) <= atol + rtol * Math.abs(w))) {
        return false;
      }
    }
    return true;
  }
}
