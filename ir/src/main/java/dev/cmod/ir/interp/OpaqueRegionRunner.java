package dev.cmod.ir.interp;

import dev.cmod.ir.graph.OnnxRegion;
import dev.cmod.ir.tensor.Tensor;
import java.util.List;

/**
 * Evaluates an opaque ONNX region ({@link dev.cmod.ir.graph.Op#ONNX_REGION}) for the interpreter.
 * The IR does not depend on ONNX Runtime, and a frozen imported model is its own oracle, so the
 * interpreter is given a runner (backend-onnx implements it on ONNX Runtime) instead of a kernel.
 */
@FunctionalInterface
public interface OpaqueRegionRunner {
  /**
   * The region's outputs, in {@link OnnxRegion#outputNames()} order, for {@code inputs} in {@link
   * OnnxRegion#inputNames()} order.
   *
   * @throws InterpreterException when the region cannot be run on these inputs
   */
  List<Tensor> run(OnnxRegion region, List<Tensor> inputs);
}
