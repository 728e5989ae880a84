package dev.cmod.ir.rewrite;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Evaluates one node over known tensors with the reference interpreter, the single definition of
 * what folding an op means; every rule that folds (constants, parameters) goes through it, so a
 * folded value is exactly what the interpreter would compute at run time.
 */
public final class ConstantFolder {
  /** Results with more elements are never folded, so folding cannot blow up an artifact. */
  public static final long MAX_ELEMENTS = 1 << 20;

  private ConstantFolder() {}

  /**
   * Whether every output of {@code n} has a known shape of at most {@link #MAX_ELEMENTS} and the
   * interpreter can evaluate {@code n} by itself (an opaque ONNX region runs only on ONNX Runtime,
   * so it is never folded).
   */
  public static boolean small(Node n) {
    if (n.op() == Op.ONNX_REGION) {
      return false;
    }
    for (TensorType t : n.outputTypes()) {
      long e = 1;
      for (Dim d : t.dims()) {
        if (!d.isKnown()) {
          return false;
        }
        e *= Math.max(1, d.value());
        if (e > MAX_ELEMENTS) {
          return false;
        }
      }
    }
    return true;
  }

  /** The outputs of {@code n}'s op and attributes applied to {@code operands}, in output order. */
  public static List<Tensor> evaluate(Node n, List<Tensor> operands) {
    Graph mini = new Graph("fold");
    List<Value> args = new ArrayList<>(operands.size());
    for (Tensor t : operands) {
      args.add(mini.addConst(t, null));
    }
    Node copy = mini.add(n.op(), n.attrs(), args, null);
    for (int i = 0; i < copy.outputTypes().size(); i++) {
      mini.setOutput("o" + i, copy.out(i));
    }
    Map<String, Tensor> out = Interpreter.run(mini, Map.of());
    List<Tensor> results = new ArrayList<>(copy.outputTypes().size());
    for (int i = 0; i < copy.outputTypes().size(); i++) {
      results.add(out.get("o" + i));
    }
    return results;
  }
}
