package dev.cmod.ir.interp;

import dev.cmod.ir.graph.Op;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The interpreter's kernel table, keyed by op and filled by the family classes. Leaves have no
 * kernel: the interpreter reads their value (a given input, a parameter's or constant's tensor).
 */
final class Kernels {
  private static final Map<Op, Kernel> TABLE = build();

  private Kernels() {}

  /** The kernel of {@code op}, or null for a leaf. */
  static Kernel of(Op op) {
    return TABLE.get(op);
  }

  /** The ops that have a kernel. */
  static Map<Op, Kernel> table() {
    return Collections.unmodifiableMap(TABLE);
  }

  private static Map<Op, Kernel> build() {
    Map<Op, Kernel> t = new EnumMap<>(Op.class);
    ElementwiseKernels.register(t);
    ShapeKernels.register(t);
    ReductionKernels.register(t);
    NormalizationKernels.register(t);
    AttentionKernels.register(t);
    WindowKernels.register(t);
    IndexingKernels.register(t);
    // a routing family (dev.cmod.ir.op.RoutingOps) registers its kernels here once it has an op
    return t;
  }
}
