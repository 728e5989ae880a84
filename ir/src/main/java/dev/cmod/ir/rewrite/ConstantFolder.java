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
  /**
   * The cap of speculative folding: a fold that may make the artifact larger than the computation
   * it replaces (a constant broadcast, a product of low-rank factors) produces at most this many
   * elements per output. Merges that cannot grow the artifact are bounded by {@link
   * #MAX_TENSOR_ELEMENTS} only.
   */
  public static final long SPECULATIVE_MAX_ELEMENTS = 1 << 20;

  /** The most elements one tensor holds (its values are one Java array). */
  public static final long MAX_TENSOR_ELEMENTS = Integer.MAX_VALUE - 8;

  private ConstantFolder() {}

  /**
   * Whether every output of {@code n} has a known shape of at most {@link
   * #SPECULATIVE_MAX_ELEMENTS} and the interpreter can evaluate {@code n} by itself (an opaque ONNX
   * region runs only on ONNX Runtime, so it is never folded).
   */
  public static boolean small(Node n) {
    return n.op() != Op.ONNX_REGION && largestOutput(n, SPECULATIVE_MAX_ELEMENTS) >= 0;
  }

  /**
   * Whether {@code n} can be folded at all: the interpreter can evaluate it by itself and every
   * output has a known shape that one tensor holds.
   */
  public static boolean foldable(Node n) {
    return n.op() != Op.ONNX_REGION && largestOutput(n, MAX_TENSOR_ELEMENTS) >= 0;
  }

  /**
   * The element count of {@code n}'s largest output (a zero-sized axis counts as one), or -1 when a
   * shape is not known or an output has more than {@code cap} elements.
   */
  public static long largestOutput(Node n, long cap) {
    long largest = 0;
    for (TensorType t : n.outputTypes()) {
      long e = 1;
      for (Dim d : t.dims()) {
        if (!d.isKnown()) {
          return -1;
        }
        e *= Math.max(1, d.value());
        if (e > cap) {
          return -1;
        }
      }
      largest = Math.max(largest, e);
    }
    return largest;
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
