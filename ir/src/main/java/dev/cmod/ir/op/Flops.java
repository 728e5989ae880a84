package dev.cmod.ir.op;

import dev.cmod.ir.type.TensorType;
import java.util.List;

/**
 * An op's estimated floating-point operations for one node, from its operand types and its (first)
 * output type. The shared shapes of the estimate are the constants here; ops with an estimate of
 * their own write it beside their inference.
 */
@FunctionalInterface
public interface Flops {
  double of(List<TensorType> in, TensorType out, DimSize size);

  /** Data movement only (views, copies, gathers): no arithmetic. */
  Flops NONE = (in, out, size) -> 0;

  /** One operation per output element. */
  Flops PER_OUTPUT = (in, out, size) -> elems(out, size);

  /** One operation per element of the first operand (a pass over the input). */
  Flops PER_INPUT = (in, out, size) -> elems(in.get(0), size);

  /** Transcendental functions: about four operations per output element. */
  Flops TRANSCENDENTAL = (in, out, size) -> 4 * elems(out, size);

  /** A few passes over the first operand (normalizations, softmax, cosine): five per element. */
  Flops FIVE_PER_INPUT = (in, out, size) -> 5 * elems(in.get(0), size);

  /** The element count of {@code t} at the given dim sizes. */
  static double elems(TensorType t, DimSize size) {
    double e = 1;
    for (var d : t.dims()) {
      e *= size.of(d);
    }
    return e;
  }

  /** The size of axis {@code axis} of {@code t} (negative counts from the end). */
  static double axis(TensorType t, int axis, DimSize size) {
    return size.of(t.dim(axis < 0 ? axis + t.rank() : axis));
  }
}
