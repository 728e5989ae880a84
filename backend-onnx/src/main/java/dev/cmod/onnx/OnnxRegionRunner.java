package dev.cmod.onnx;

import dev.cmod.ir.graph.OnnxRegion;
import dev.cmod.ir.interp.InterpreterException;
import dev.cmod.ir.interp.OpaqueRegionRunner;
import dev.cmod.ir.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the opaque regions of imported ONNX models for the reference interpreter on ONNX Runtime
 * (CPU): a frozen pretrained piece is its own oracle. Pass {@link #CPU} to {@link
 * dev.cmod.ir.interp.Interpreter#run(dev.cmod.ir.graph.Graph, Map, OpaqueRegionRunner)} wherever a
 * graph may hold imported models.
 */
public final class OnnxRegionRunner implements OpaqueRegionRunner {
  /** The runner on ONNX Runtime's CPU provider; it holds no state. */
  public static final OnnxRegionRunner CPU = new OnnxRegionRunner();

  private OnnxRegionRunner() {}

  @Override
  public List<Tensor> run(OnnxRegion region, List<Tensor> inputs) {
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    for (int i = 0; i < inputs.size(); i++) {
      feeds.put(region.inputNames().get(i), inputs.get(i));
    }
    try (OnnxRunner r = OnnxRunner.open(region.model(), OnnxRunner.Device.CPU)) {
      Map<String, Tensor> out = r.run(feeds);
      List<Tensor> result = new ArrayList<>();
      for (String name : region.outputNames()) {
        result.add(out.get(name));
      }
      return result;
    } catch (RunnerException e) {
      throw new InterpreterException(
          "ONNX Runtime could not run the opaque region "
              + region.outputNames()
              + ": "
              + e.getMessage());
    }
  }
}
