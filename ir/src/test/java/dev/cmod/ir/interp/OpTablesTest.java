package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.T.close;
import static dev.cmod.ir.interp.T.f;
import static dev.cmod.ir.interp.T.run;
import static dev.cmod.ir.interp.T.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.OpDef;
import dev.cmod.ir.op.OpDefs;
import dev.cmod.ir.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The per-op tables are complete: every op has a definition with inference and a kernel, or is a
 * leaf, whose definition says why it has neither (the interpreter reads a leaf's value), or is the
 * opaque ONNX region, which the interpreter hands to its region runner.
 */
class OpTablesTest {
  @Test
  void everyOpHasInferenceAndAKernelOrIsALeaf() {
    for (Op op : Op.values()) {
      OpDef d = OpDefs.of(op);
      assertNotNull(d, op.name());
      if (op.isLeaf()) {
        assertFalse(d.hasInference(), op.name());
        assertNotNull(d.noInference(), op + " says why it has no inference");
        assertFalse(Kernels.table().containsKey(op), op + " is read, not run");
      } else if (op == Op.ONNX_REGION) {
        // an opaque region runs on the interpreter's OpaqueRegionRunner (ONNX Runtime), not Java
        assertTrue(d.hasInference(), op + " has inference");
        assertFalse(Kernels.table().containsKey(op), op + " is run by the region runner");
      } else {
        assertTrue(d.hasInference(), op + " has inference");
        assertNotNull(Kernels.of(op), op + " has a kernel");
      }
    }
  }

  /** A node without eps runs with the definition's default, the same as writing it out. */
  @Test
  void kernelsTakeDefaultsFromTheDefinitions() {
    Tensor x = f(s(2, 3), 1, -2, 3, 0.5f, 4, -1);
    Tensor gamma = f(s(3), 1, 2, 0.5f);
    Tensor dflt = run(Op.RMS_NORM, Attrs.NONE, x, gamma);
    assertArrayEquals(run(Op.RMS_NORM, Attrs.of("eps", 1e-6), x, gamma).floats(), dflt.floats());
    Tensor big = run(Op.RMS_NORM, Attrs.of("eps", 10.0), x, gamma);
    assertFalse(java.util.Arrays.equals(big.floats(), dflt.floats()), "eps is read");
    // softmax without an axis normalizes the last one: each row sums to 1
    Tensor sm = run(Op.SOFTMAX, Attrs.NONE, x);
    float[] v = sm.floats();
    close(s(2), new float[] {1, 1}, f(s(2), v[0] + v[1] + v[2], v[3] + v[4] + v[5]), 1e-6);
  }
}
