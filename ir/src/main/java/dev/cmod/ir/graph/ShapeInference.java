package dev.cmod.ir.graph;

import dev.cmod.ir.op.OpDefs;
import dev.cmod.ir.type.TensorType;
import java.util.List;

/**
 * Output types of a node from its operand types and attributes: the entry point {@link Graph#add}
 * and the {@link Verifier} use. The rules themselves are in each op's definition ({@link
 * dev.cmod.ir.op.OpDef}).
 */
public final class ShapeInference {
  private ShapeInference() {}

  /**
   * The output types of an {@code op} node.
   *
   * @throws ShapeException when the operands or attributes do not fit the op
   */
  public static List<TensorType> infer(Op op, Attrs a, List<TensorType> in) {
    return OpDefs.of(op).infer(a, in);
  }
}
