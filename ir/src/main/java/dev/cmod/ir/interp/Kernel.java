package dev.cmod.ir.interp;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.Dim;
import java.util.List;

/** The interpreter's evaluation of one op: a node's output tensors from its operand tensors. */
@FunctionalInterface
interface Kernel {
  Tensor[] run(Node n, Tensor[] x, Sizes sizes);

  /** The runtime values of a node's dim-valued attributes, from the symbols the inputs bind. */
  interface Sizes {
    /** The value of {@code d}; {@code op} names the op in the error when it cannot be had. */
    long of(Dim d, String op);

    /** The values of {@code ds}, each non-negative. */
    long[] of(List<Dim> ds, String op);

    /** The value of {@code d} when it is known or all its symbols are bound; null otherwise. */
    Long tryEval(Dim d);
  }
}
