package dev.cmod.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** OnnxRunner: names, order, dtype conversions, errors, and CUDA (skipped without a GPU). */
class OnnxRunnerTest {
  private static final SourceLoc LOC = new SourceLoc("r.cmod", 1, 1);

  /** Inputs b: f32[2,3], a: f32[3]; outputs z = b + a, a_copy = a. */
  private static byte[] addModel() {
    Graph g = new Graph("add");
    Value b = g.addInput("b", TensorType.of(DType.F32, 2, 3), LOC);
    Value a = g.addInput("a", TensorType.of(DType.F32, 3), LOC);
    g.setOutput("z", g.add(Op.ADD, Attrs.NONE, List.of(b, a), LOC).out());
    g.setOutput("a_copy", a);
    return OnnxEmitter.emit(g, EmitOptions.defaults());
  }

  private static Map<String, Tensor> addInputs() {
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("a", Tensor.ofFloats(new long[] {3}, new float[] {1, 2, 3}));
    in.put("b", Tensor.ofFloats(new long[] {2, 3}, new float[] {0, 0, 0, 10, 10, 10}));
    return in;
  }

  @Test
  void namesAndOrder() {
    try (OnnxRunner r = OnnxRunner.open(addModel(), OnnxRunner.Device.CPU)) {
      assertEquals(List.of("b", "a"), r.inputNames());
      assertEquals(List.of("z", "a_copy"), r.outputNames());
      Map<String, Tensor> out = r.run(addInputs());
      assertEquals(List.of("z", "a_copy"), List.copyOf(out.keySet()));
      TestSupport.assertClose(
          Tensor.ofFloats(new long[] {2, 3}, new float[] {1, 2, 3, 11, 12, 13}), out.get("z"), "z");
      TestSupport.assertClose(addInputs().get("a"), out.get("a_copy"), "a_copy");
    }
  }

  @Test
  void ortErrorsBecomeRunnerExceptions() {
    try (OnnxRunner r = OnnxRunner.open(addModel(), OnnxRunner.Device.CPU)) {
      Map<String, Tensor> wrongShape = addInputs();
      wrongShape.put("a", Tensor.ofFloats(new long[] {4}, new float[] {1, 2, 3, 4}));
      RunnerException e = assertThrows(RunnerException.class, () -> r.run(wrongShape));
      assertTrue(
          e.getMessage().contains("ONNX Runtime failed")
              && e.getMessage().toLowerCase().contains("dim"),
          e.getMessage());

      Map<String, Tensor> wrongType = addInputs();
      wrongType.put("a", Tensor.ofLongs(new long[] {3}, new long[] {1, 2, 3}));
      assertThrows(RunnerException.class, () -> r.run(wrongType));

      Map<String, Tensor> missing = addInputs();
      missing.remove("b");
      RunnerException m = assertThrows(RunnerException.class, () -> r.run(missing));
      assertTrue(m.getMessage().contains("'b'"), m.getMessage());

      Map<String, Tensor> extra = addInputs();
      extra.put("c", Tensor.scalar(1));
      assertThrows(RunnerException.class, () -> r.run(extra));
    }
    RunnerException bad =
        assertThrows(
            RunnerException.class,
            () -> OnnxRunner.open(new byte[] {1, 2, 3}, OnnxRunner.Device.CPU));
    assertTrue(bad.getMessage().contains("could not load"), bad.getMessage());
  }

  @Test
  void convertsEveryDtype() {
    Graph g = new Graph("dtypes");
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("f32", Tensor.ofFloats(new long[] {2}, new float[] {1.25f, -3}));
    in.put("f64", Tensor.ofFloats(DType.F64, new long[] {2}, new float[] {0.5f, 1e-3f}));
    in.put("f16", Tensor.ofFloats(DType.F16, new long[] {2}, new float[] {0.5f, -65504}));
    in.put("bf16", Tensor.ofFloats(DType.BF16, new long[] {2}, new float[] {1.5f, -256}));
    in.put("i64", Tensor.ofLongs(new long[] {2}, new long[] {Long.MAX_VALUE, -5}));
    in.put("i32", Tensor.ofLongs(DType.I32, new long[] {2, 1}, new long[] {Integer.MIN_VALUE, 7}));
    in.put("bool", Tensor.ofLongs(DType.BOOL, new long[] {3}, new long[] {1, 0, 1}));
    for (Map.Entry<String, Tensor> e : in.entrySet()) {
      Value v =
          g.addInput(e.getKey(), TensorType.of(e.getValue().dtype(), e.getValue().shape()), LOC);
      g.setOutput("out_" + e.getKey(), v);
    }
    Map<String, Tensor> out = TestSupport.runOrt(g, in);
    for (String k : in.keySet()) {
      TestSupport.assertClose(in.get(k), out.get("out_" + k), k);
    }
  }

  @Test
  void cudaFailsCleanlyWithoutAGpu() {
    OnnxRunner r;
    try {
      r = OnnxRunner.open(addModel(), OnnxRunner.Device.CUDA);
    } catch (RunnerException e) {
      assertTrue(e.getMessage().contains("onnxruntime_gpu"), e.getMessage());
      Assumptions.abort("no CUDA here: " + e.getMessage());
      return;
    }
    try (r) {
      Map<String, Tensor> out = r.run(addInputs());
      TestSupport.assertClose(
          Tensor.ofFloats(new long[] {2, 3}, new float[] {1, 2, 3, 11, 12, 13}),
          out.get("z"),
          "z on CUDA");
    }
  }
}
