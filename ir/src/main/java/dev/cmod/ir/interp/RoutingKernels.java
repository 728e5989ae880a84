package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.Buffers.one;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import java.util.Map;

/**
 * The kernel of the routing family: {@code route} evaluated in its dense meaning, so that a pass
 * that runs before routing is lowered can still be checked on the interpreter.
 */
final class RoutingKernels {
  private RoutingKernels() {}

  static void register(Map<Op, Kernel> t) {
    t.put(Op.ROUTE, (n, x, s) -> one(route(x)));
  }

  /** {@code Σ_e y_e · gates[..., e:e+1]}, in the order the lowering builds it. */
  private static Tensor route(Tensor[] x) {
    int gl = x[0].rank() - 1;
    Tensor acc = null;
    for (int e = 1; e < x.length; e++) {
      Tensor term =
          ElementwiseKernels.binary(Op.MUL, x[e], ShapeKernels.narrow(x[0], gl, e - 1, 1));
      acc = acc == null ? term : ElementwiseKernels.binary(Op.ADD, acc, term);
    }
    return acc;
  }
}
