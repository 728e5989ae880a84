package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * Parameter initializers. Random ones draw from a generator seeded by (--seed, parameter path), so
 * a parameter's initial value depends on neither creation order nor other parameters.
 */
final class Inits {
  static final List<String> KINDS =
      List.of("zeros", "ones", "normal", "uniform", "xavier", "kaiming", "constant", "eye");

  private Inits() {}

  static Tensor make(
      Val init, DType dtype, long[] shape, long seed, String path, ElabContext el, Span span) {
    int n = Math.toIntExact(Tensor.numel(shape));
    if (!dtype.isFloat()) {
      long[] data = new long[n];
      if (init instanceof InitV i && i.kind().equals("ones")) {
        java.util.Arrays.fill(data, 1);
      } else if (!(init instanceof InitV i2 && i2.kind().equals("zeros"))) {
        el.fail(
            DiagnosticCode.TYPE_MISMATCH,
            span,
            "integer parameters can only use init.zeros or init.ones",
            null);
      }
      return Tensor.ofLongs(dtype, shape, data);
    }
    float[] data = new float[n];
    if (init instanceof FloatV || init instanceof IntV) {
      java.util.Arrays.fill(data, (float) el.number(init, span, "initial value"));
      return Tensor.ofFloats(dtype, shape, data);
    }
    if (!(init instanceof InitV i)) {
      el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          span,
          "a parameter's initializer must be init.<kind>, got " + Val.describe(init),
          "for example init.xavier or init.normal(0.02)");
      return null;
    }
    Random rng = new Random(mix(seed, path));
    long fanIn = fanIn(shape);
    long fanOut = fanOut(shape);
    switch (i.kind()) {
      case "zeros" -> {}
      case "ones" -> java.util.Arrays.fill(data, 1f);
      case "eye" -> {
        if (shape.length != 2) {
          el.fail(DiagnosticCode.TYPE_MISMATCH, span, "init.eye needs a 2-D parameter", null);
        }
        for (int k = 0; k < Math.min(shape[0], shape[1]); k++) {
          data[(int) (k * shape[1] + k)] = 1f;
        }
      }
      case "constant" -> java.util.Arrays.fill(data, (float) arg(i, 0, 0.0, el, span));
      case "normal" -> {
        double std = arg(i, 0, 1.0, el, span);
        for (int k = 0; k < n; k++) {
          data[k] = (float) (rng.nextGaussian() * std);
        }
      }
      case "uniform" -> {
        double bound = arg(i, 0, 1.0, el, span);
        for (int k = 0; k < n; k++) {
          data[k] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
      }
      case "xavier" -> {
        double bound = Math.sqrt(6.0 / Math.max(1, fanIn + fanOut)) * arg(i, 0, 1.0, el, span);
        for (int k = 0; k < n; k++) {
          data[k] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
      }
      case "kaiming" -> {
        double std = Math.sqrt(2.0 / Math.max(1, fanIn));
        for (int k = 0; k < n; k++) {
          data[k] = (float) (rng.nextGaussian() * std);
        }
      }
      default ->
          el.fail(DiagnosticCode.UNKNOWN_NAME, span, "unknown initializer init." + i.kind(), null);
    }
    return Tensor.ofFloats(dtype, shape, data);
  }

  private static double arg(InitV i, int k, double dflt, ElabContext el, Span span) {
    if (i.args().size() > k + 1) {
      el.fail(
          DiagnosticCode.ARITY,
          span,
          "init." + i.kind() + " takes at most " + (k + 1) + " argument",
          null);
    }
    return i.args().size() > k ? i.args().get(k) : dflt;
  }

  /**
   * Fan-in: rows of a 2-D [in, out] weight; in-channels times kernel size of a conv weight [out,
   * in, k...].
   */
  static long fanIn(long[] s) {
    if (s.length == 0) {
      return 1;
    }
    if (s.length <= 2) {
      return s[0];
    }
    long r = 1;
    for (int i = 2; i < s.length; i++) {
      r *= s[i];
    }
    return s[1] * r;
  }

  static long fanOut(long[] s) {
    if (s.length == 0) {
      return 1;
    }
    if (s.length == 1) {
      return s[0];
    }
    if (s.length == 2) {
      return s[1];
    }
    long r = 1;
    for (int i = 2; i < s.length; i++) {
      r *= s[i];
    }
    return s[0] * r;
  }

  /**
   * A stable 64-bit mix of the seed and the path (FNV-1a over the UTF-8 path, then a final
   * avalanche).
   */
  static long mix(long seed, String path) {
    long h = 0xcbf29ce484222325L ^ seed;
    for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h;
  }
}
