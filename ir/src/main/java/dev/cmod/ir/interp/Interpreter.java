package dev.cmod.ir.interp;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.tensor.Tensor;
import java.util.Map;

/** Reference interpreter: evaluates any IR graph in plain Java. (Being written.) */
public final class Interpreter {
  private Interpreter() {}

  /**
   * Runs {@code g} on the given inputs (by input name) and returns every model output by name,
   * in the graph's output order.
   *
   * @throws InterpreterException when an input is missing, has the wrong dtype or a shape that does
   *     not match its declared type (symbols bound consistently across inputs)
   */
  public static Map<String, Tensor> run(Graph g, Map<String, Tensor> inputs) {
    throw new UnsupportedOperationException("not yet");
  }
}
