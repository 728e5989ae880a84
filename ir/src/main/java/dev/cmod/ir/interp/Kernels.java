package dev.cmod.ir.interp;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.op.OpDefs;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Consumer;

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
    add(t, Family.ELEMENTWISE, ElementwiseKernels::register);
    add(t, Family.SHAPE, ShapeKernels::register);
    add(t, Family.REDUCTION, ReductionKernels::register);
    add(t, Family.NORMALIZATION, NormalizationKernels::register);
    add(t, Family.ATTENTION, AttentionKernels::register);
    add(t, Family.WINDOW, WindowKernels::register);
    add(t, Family.INDEXING, IndexingKernels::register);
    add(t, Family.ROUTING, RoutingKernels::register);
    return t;
  }

  /**
   * Adds one family's kernels, refusing an op the op definitions put in another family and a second
   * kernel for an op, so that an op lives in the same family in every table.
   */
  private static void add(Map<Op, Kernel> t, Family family, Consumer<Map<Op, Kernel>> register) {
    Map<Op, Kernel> part = new EnumMap<>(Op.class);
    register.accept(part);
    for (Map.Entry<Op, Kernel> e : part.entrySet()) {
      Family defined = OpDefs.of(e.getKey()).family();
      if (defined != family) {
        throw new IllegalStateException(
            "op "
                + e.getKey()
                + " is defined in family "
                + defined
                + ", its kernel is in "
                + family);
      }
      if (t.putIfAbsent(e.getKey(), e.getValue()) != null) {
        throw new IllegalStateException("a second kernel for op " + e.getKey());
      }
    }
  }
}
