package dev.cmod.ir.graph;

import dev.cmod.ir.type.TensorType;
import java.util.List;

/**
 * An IR node. Nodes use identity equality; {@code id} is stable within a graph and orders printing
 * and emission. Operands live on the graph's edges (see {@link Graph#operands}).
 */
public final class Node {
  private final int id;
  private final Op op;
  private final Attrs attrs;
  private final List<TensorType> outputTypes;
  private final SourceLoc loc;

  Node(int id, Op op, Attrs attrs, List<TensorType> outputTypes, SourceLoc loc) {
    this.id = id;
    this.op = op;
    this.attrs = attrs;
    this.outputTypes = List.copyOf(outputTypes);
    this.loc = loc;
  }

  public int id() {
    return id;
  }

  public Op op() {
    return op;
  }

  public Attrs attrs() {
    return attrs;
  }

  public List<TensorType> outputTypes() {
    return outputTypes;
  }

  public TensorType type() {
    return outputTypes.get(0);
  }

  public SourceLoc loc() {
    return loc;
  }

  public Value out() {
    return new Value(this, 0);
  }

  public Value out(int i) {
    return new Value(this, i);
  }

  @Override
  public String toString() {
    return "%" + id + ":" + op.text();
  }
}
