package dev.cmod.onnx.importer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.OnnxImporter;
import dev.cmod.onnx.OnnxRegionRunner;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * The PaddleOCR text-orientation classifier (opset 9, MobileNetV3-like with depthwise convolutions,
 * HardSwish and squeeze-excitation blocks, weights as Constant nodes): imported into a graph with a
 * symbolic batch, emitted, run on ONNX Runtime and compared with the original file on ONNX Runtime
 * and with the reference interpreter.
 */
class PaddleOcrClassifierImportTest {
  private static final String FILE = "models/image/ch_ppocr_mobile_v2.0_cls_infer.onnx";
  private static final SourceLoc LOC = new SourceLoc("cls.cmod", 1, 1);

  private static byte[] model() throws Exception {
    return Files.readAllBytes(ImportSupport.corpus(FILE));
  }

  @Test
  void describesItsInterface() throws Exception {
    ImportedModule m = OnnxImporter.load(model(), null);
    assertEquals(List.of("x"), m.inputNames());
    assertEquals(List.of("softmax_0.tmp_0"), m.outputNames());
    TensorType t = m.inputTypes().get(0);
    assertEquals(DType.F32, t.dtype());
    assertEquals(
        List.of(
            Dim.sym("p2o.DynamicDimension.0"),
            Dim.of(3),
            Dim.sym("p2o.DynamicDimension.1"),
            Dim.sym("p2o.DynamicDimension.2")),
        t.dims());
  }

  @Test
  void matchesTheOriginalOnOrtAndTheInterpreter() throws Exception {
    byte[] bytes = model();
    ImportedModule m = OnnxImporter.load(bytes, null);
    Graph g = new Graph("cls");
    Value x =
        g.addInput(
            "x",
            new TensorType(DType.F32, List.of(Dim.sym("N"), Dim.of(3), Dim.of(48), Dim.of(192))),
            LOC);
    List<Value> outs = m.apply(g, List.of(x), "cls", LOC);
    assertEquals(1, outs.size());
    assertEquals(new TensorType(DType.F32, List.of(Dim.sym("N"), Dim.of(2))), outs.get(0).type());
    g.setOutput("probs", outs.get(0));

    // weights are frozen parameters under the prefix; the shape chain folded away
    long params = 0;
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        params++;
        assertTrue(n.attrs().getString("path").startsWith("cls."), n.attrs().getString("path"));
        assertEquals(false, n.attrs().getBool("trainable", true));
      }
    }
    assertTrue(params > 100, "parameters: " + params);

    Random rnd = new Random(7);
    float[] v = new float[2 * 3 * 48 * 192];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextFloat() * 2 - 1;
    }
    Tensor in = Tensor.ofFloats(new long[] {2, 3, 48, 192}, v);
    Tensor want = ImportSupport.runModel(bytes, Map.of("x", in)).get("softmax_0.tmp_0");
    Tensor got = ImportSupport.runEmitted(g, Map.of("x", in)).get("probs");
    assertArrayEquals(new long[] {2, 2}, got.shape());
    double ortDiff = ImportSupport.maxAbsDiff(got, want);
    Tensor ref = Interpreter.run(g, Map.of("x", in), OnnxRegionRunner.CPU).get("probs");
    double refDiff = ImportSupport.maxAbsDiff(ref, want);
    System.out.println(
        "PaddleOCR classifier: max |imported on ORT - original on ORT| = "
            + ortDiff
            + ", max |interpreter - original on ORT| = "
            + refDiff
            + "; output "
            + got);
    assertTrue(ortDiff <= 1e-4, "imported vs original on ORT: " + ortDiff);
    assertTrue(refDiff <= 1e-4, "interpreter vs original on ORT: " + refDiff);
  }

  @Test
  void applyingTwiceSharesTheWeights() throws Exception {
    ImportedModule m = OnnxImporter.load(model(), null);
    Graph g = new Graph("twice");
    TensorType t =
        new TensorType(DType.F32, List.of(Dim.of(1), Dim.of(3), Dim.of(48), Dim.of(192)));
    Value a = g.addInput("a", t, LOC);
    Value b = g.addInput("b", t, LOC);
    m.apply(g, List.of(a), "cls", LOC);
    long once = g.nodes().stream().filter(n -> n.op() == Op.PARAM).count();
    m.apply(g, List.of(b), "cls", LOC);
    long twice = g.nodes().stream().filter(n -> n.op() == Op.PARAM).count();
    assertEquals(once, twice);
  }

  @Test
  void rejectsArgumentsThatDoNotFit() throws Exception {
    ImportedModule m = OnnxImporter.load(model(), null);
    Graph g = new Graph("bad");
    Value wrongChannels = g.addInput("a", TensorType.of(DType.F32, 1, 4, 48, 192), LOC);
    ShapeException e =
        Assertions.assertThrows(
            ShapeException.class, () -> m.apply(g, List.of(wrongChannels), "c", LOC));
    assertTrue(e.getMessage().contains("axis 1"), e.getMessage());
    Value wrongRank = g.addInput("b", TensorType.of(DType.F32, 3, 48, 192), LOC);
    Assertions.assertThrows(ShapeException.class, () -> m.apply(g, List.of(wrongRank), "c", LOC));
    Value wrongType = g.addInput("c", TensorType.of(DType.F16, 1, 3, 48, 192), LOC);
    Assertions.assertThrows(ShapeException.class, () -> m.apply(g, List.of(wrongType), "c", LOC));
  }
}
