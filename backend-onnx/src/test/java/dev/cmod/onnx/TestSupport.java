package dev.cmod.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;

/** Shared helpers: random tensors, running on ORT and on the reference interpreter, comparisons. */
final class TestSupport {
  static final double RTOL = 1e-5;
  static final double ATOL = 1e-6;

  private TestSupport() {}

  static Tensor uniform(Random rnd, float lo, float hi, long... shape) {
    float[] f = new float[Math.toIntExact(Tensor.numel(shape))];
    for (int i = 0; i < f.length; i++) {
      f[i] = lo + (hi - lo) * rnd.nextFloat();
    }
    return Tensor.ofFloats(shape, f);
  }

  /** Integer-valued floats in [0, n): ties for comparisons. */
  static Tensor smallInts(Random rnd, int n, long... shape) {
    float[] f = new float[Math.toIntExact(Tensor.numel(shape))];
    for (int i = 0; i < f.length; i++) {
      f[i] = rnd.nextInt(n);
    }
    return Tensor.ofFloats(shape, f);
  }

  static Tensor longs(Random rnd, DType dt, long lo, long hi, long... shape) {
    long[] l = new long[Math.toIntExact(Tensor.numel(shape))];
    for (int i = 0; i < l.length; i++) {
      l[i] = lo + (long) rnd.nextInt(Math.toIntExact(hi - lo));
    }
    return Tensor.ofLongs(dt, shape, l);
  }

  static Tensor bools(Random rnd, long... shape) {
    return longs(rnd, DType.BOOL, 0, 2, shape);
  }

  static Tensor f32(long[] shape, float... v) {
    return Tensor.ofFloats(shape, v);
  }

  static long[] shape(long... s) {
    return s;
  }

  /** Emits and runs {@code g} on ORT CPU. */
  static Map<String, Tensor> runOrt(Graph g, Map<String, Tensor> inputs) {
    byte[] model = OnnxEmitter.emit(g, EmitOptions.defaults());
    List<String> problems = OnnxChecks.validate(model, null);
    if (!problems.isEmpty()) {
      fail("emitted model fails OnnxChecks: " + problems);
    }
    try (OnnxRunner r = OnnxRunner.open(model, OnnxRunner.Device.CPU)) {
      assertEquals(List.copyOf(g.outputs().keySet()), r.outputNames(), "output order");
      return r.run(inputs);
    }
  }

  /**
   * Runs the reference interpreter. While the interpreter is still a stub (it throws
   * UnsupportedOperationException) the comparison is skipped, clearly marked as such.
   */
  static Map<String, Tensor> reference(Graph g, Map<String, Tensor> inputs) {
    try {
      return Interpreter.run(g, inputs);
    } catch (UnsupportedOperationException e) {
      Assumptions.abort(
          "REFERENCE INTERPRETER NOT AVAILABLE ("
              + e.getMessage()
              + "): comparison with the interpreter skipped");
      throw e;
    }
  }

  /** Every output of {@code want} matches {@code got}: dtype, shape, values within tolerance. */
  static void assertAllClose(Map<String, Tensor> want, Map<String, Tensor> got, String what) {
    assertEquals(List.copyOf(want.keySet()), List.copyOf(got.keySet()), what + ": output names");
    for (String k : want.keySet()) {
      assertClose(want.get(k), got.get(k), what + " output '" + k + "'");
    }
  }

  /**
   * {@code got} matches {@code want}: dtype, shape, integers exactly, floats within {@code ATOL +
   * RTOL |want|} (equal infinities match). A NaN on either side fails: use {@link
   * #assertCloseNaNsMatch} where a test expects NaN.
   */
  static void assertClose(Tensor want, Tensor got, String what) {
    assertClose(want, got, what, false);
  }

  /** {@link #assertClose}, except that a NaN output matches a NaN expectation (and only that). */
  static void assertCloseNaNsMatch(Tensor want, Tensor got, String what) {
    assertClose(want, got, what, true);
  }

  private static void assertClose(Tensor want, Tensor got, String what, boolean nanMatchesNaN) {
    assertEquals(want.dtype(), got.dtype(), what + ": dtype");
    assertArrayEquals(
        want.shape(),
        got.shape(),
        what
            + ": shape "
            + Arrays.toString(got.shape())
            + " vs expected "
            + Arrays.toString(want.shape()));
    for (int i = 0; i < want.size(); i++) {
      double w = want.get(i);
      double h = got.get(i);
      if (want.isFloat()) {
        boolean ok =
            Double.isNaN(w) || Double.isNaN(h)
                ? nanMatchesNaN && Double.isNaN(w) && Double.isNaN(h)
                : w == h || Math.abs(w - h) <= ATOL + RTOL * Math.abs(w);
        if (!ok) {
          fail(
              what
                  + ": element "
                  + i
                  + " is "
                  + h
                  + ", expected "
                  + w
                  + " (diff "
                  + Math.abs(w - h)
                  + ")\n got "
                  + got
                  + "\nwant "
                  + want);
        }
      } else if (w != h) {
        fail(
            what
                + ": element "
                + i
                + " is "
                + (long) h
                + ", expected "
                + (long) w
                + "\n got "
                + got
                + "\nwant "
                + want);
      }
    }
  }
}
