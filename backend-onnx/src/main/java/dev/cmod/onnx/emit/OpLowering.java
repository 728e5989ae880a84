package dev.cmod.onnx.emit;

import dev.cmod.ir.graph.Node;
import java.util.List;

/** Lowers one IR node to ONNX nodes. */
@FunctionalInterface
interface OpLowering {
  /**
   * Emits ONNX nodes through {@code cx} that compute {@code n}.
   *
   * @param in the ONNX names of the node's operands, in slot order
   * @param out the ONNX names the node's outputs must be written to, one per IR output
   */
  void lower(LoweringContext cx, Node n, List<String> in, List<String> out);
}
