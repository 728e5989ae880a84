package dev.cmod.ir.graph;

/**
 * An edge from a producer to a consumer: which output of the producer feeds which operand slot of
 * the consumer. Identity-equal, so {@code mul(x, x)} is two distinct edges.
 */
public final class OperandEdge {
  final int operandIndex;
  final int sourceOutput;

  OperandEdge(int operandIndex, int sourceOutput) {
    this.operandIndex = operandIndex;
    this.sourceOutput = sourceOutput;
  }

  public int operandIndex() {
    return operandIndex;
  }

  public int sourceOutput() {
    return sourceOutput;
  }
}
