package dev.cmod.ir.interp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Test helpers: tensor literals and single-op graphs run through the interpreter. */
final class T {
  private T() {}

  static long[] s(long... dims) {
    return dims;
  }

  static Tensor f(long[] shape, float... v) {
    return Tensor.ofFloats(shape, v);
  }

  static Tensor i64(long[] shape, long... v) {
    return Tensor.ofLongs(shape, v);
  }

  static Tensor bool(long[] shape, long... v) {
    return Tensor.ofLongs(DType.BOOL, shape, v);
  }

  static Tensor ramp(long... shape) {
    float[] v = new float[(int) Tensor.numel(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = i;
    }
    return Tensor.ofFloats(shape, v);
  }

  /**
   * Builds input nodes x0, x1, ... for the tensors, one {@code op} node, and outputs y0, y1, ....
   */
  static Map<String, Tensor> runAll(Op op, Attrs attrs, Tensor... ins) {
    Graph g = new Graph("t");
    List<Value> vals = new ArrayList<>();
    Map<String, Tensor> feed = new LinkedHashMap<>();
    for (int i = 0; i < ins.length; i++) {
      vals.add(g.addInput("x" + i, TensorType.of(ins[i].dtype(), ins[i].shape()), null));
      feed.put("x" + i, ins[i]);
    }
    Node n = g.add(op, attrs, vals, new SourceLoc("t.cmod", 1, 1));
    for (int k = 0; k < n.outputTypes().size(); k++) {
      g.setOutput("y" + k, n.out(k));
    }
    return Interpreter.run(g, feed);
  }

  static Tensor run(Op op, Attrs attrs, Tensor... ins) {
    return runAll(op, attrs, ins).get("y0");
  }

  static void close(long[] shape, float[] want, Tensor got, double tol) {
    assertArrayEquals(shape, got.shape(), "shape");
    float[] have = got.floats();
    assertEquals(want.length, have.length, "element count");
    for (int i = 0; i < want.length; i++) {
      double scale = Math.max(1.0, Math.abs(want[i]));
      if (Float.isNaN(want[i])) {
        // a NaN written into want is the test's explicit expectation of NaN; a NaN output where a
        // number is wanted fails below (assertEquals with a delta never matches NaN to a number)
        assertEquals(Float.NaN, have[i], "element " + i);
      } else {
        assertEquals(want[i], have[i], tol * scale, "element " + i);
      }
    }
  }

  static void close(long[] shape, double[] want, Tensor got, double tol) {
    float[] w = new float[want.length];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) want[i];
    }
    close(shape, w, got, tol);
  }

  static void exact(long[] shape, long[] want, Tensor got) {
    assertArrayEquals(shape, got.shape(), "shape");
    assertArrayEquals(want, got.longs());
  }
}
