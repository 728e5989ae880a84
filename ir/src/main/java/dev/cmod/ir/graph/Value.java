package dev.cmod.ir.graph;

import dev.cmod.ir.type.TensorType;

/** One output of a node. */
public record Value(Node node, int index) {
  public TensorType type() {
    return node.outputTypes().get(index);
  }

  @Override
  public String toString() {
    return index == 0 ? "%" + node.id() : "%" + node.id() + "#" + index;
  }
}
