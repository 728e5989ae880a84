package dev.cmod.onnx.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.op.ElementwiseOps;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.EmitOptions;
import dev.cmod.onnx.OnnxEmitter;
import dev.cmod.onnx.OnnxImporter;
import dev.cmod.onnx.OnnxRegionRunner;
import dev.cmod.onnx.Target;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The raising of decomposed layer norm, GELU and attention on import ({@link PatternRaising}), on
 * the PyTorch exports of {@code scripts/make-raising-models.py}: per model, the IR ops the import
 * gives (before: what the file's nodes are one by one; after: the raised op and none of its
 * pieces), and the numbers of the interpreter and of the emitted artifact (onnx17 and, with the
 * backend's fusion, ort) equal to ONNX Runtime on the original file. Each pattern has near misses
 * that must keep their decomposed form and their numbers.
 */
class PatternRaisingTest {
  private static final SourceLoc LOC = new SourceLoc("t.cmod", 1, 1);
  private static final double TOL = 1e-5;

  @Test
  void layerNormOverTheLastAxisIsRaised() {
    Graph g = check("layer_norm", Map.of("layer_norm", 1));
    assertEquals(List.of(Op.LAYER_NORM), ops(g));
    Node ln = only(g, Op.LAYER_NORM);
    assertEquals((double) 1e-12f, ln.attrs().getDouble("eps"), 0.0);
  }

  @Test
  void layerNormNearMissesStayDecomposed() {
    // statistics over axis 1, not the last one
    assertTrue(ops(check("layer_norm_axis1", Map.of())).contains(Op.REDUCE_MEAN));
    // epsilon added to the deviation, not to the variance under the square root
    assertTrue(ops(check("layer_norm_eps_outside", Map.of())).contains(Op.SQRT));
    // the mean is also an output of the model
    assertTrue(ops(check("layer_norm_mean_read", Map.of())).contains(Op.POW));
  }

  @Test
  void geluInItsExportedFormsIsRaised() {
    for (String form : List.of("erf", "erf_hf")) {
      Graph g = check("gelu_" + form, Map.of("gelu", 1));
      assertEquals(List.of(Op.MUL, Op.GELU), ops(g), form);
      assertEquals("none", ElementwiseOps.APPROX.get(only(g, Op.GELU).attrs()), form);
    }
    for (String form : List.of("tanh", "tanh_pow")) {
      Graph g = check("gelu_" + form, Map.of("gelu", 1));
      assertEquals(List.of(Op.MUL, Op.GELU), ops(g), form);
      assertEquals("tanh", ElementwiseOps.APPROX.get(only(g, Op.GELU).attrs()), form);
    }
  }

  @Test
  void geluNearMissesStayDecomposed() {
    // x / 1.5 inside erf, 0.05 instead of 0.044715 inside tanh
    assertTrue(ops(check("gelu_erf_wrong", Map.of())).contains(Op.ERF));
    assertTrue(ops(check("gelu_tanh_wrong", Map.of())).contains(Op.TANH));
  }

  @Test
  void scaledDotProductAttentionIsRaised() {
    Graph g = check("attention", Map.of("attention", 1));
    // kᵀ is the file's Transpose of k: turning it back into k leaves k itself
    assertEquals(List.of(Op.ATTENTION), ops(g));
    Graph masked = check("attention_mask_mul", Map.of("attention", 1));
    assertEquals(4, masked.operands(only(masked, Op.ATTENTION)).size());
  }

  @Test
  void attentionNearMissesStayDecomposed() {
    // divided by 3 where 1/√8 is the attention's scale
    assertTrue(ops(check("attention_scale_3", Map.of())).contains(Op.SOFTMAX));
    // the probabilities are also an output
    assertTrue(ops(check("attention_probs_read", Map.of())).contains(Op.SOFTMAX));
  }

  @Test
  void aBertBlockIsRaisedWholeAndFusesOnOrt() {
    Graph g = check("bert_block", Map.of("attention", 1, "gelu", 1, "layer_norm", 2));
    for (Op piece : List.of(Op.REDUCE_MEAN, Op.SOFTMAX, Op.ERF, Op.SQRT, Op.POW)) {
      assertTrue(!ops(g).contains(piece), piece + " left in " + ops(g));
    }
    // the residual sums with the projections' biases, the biased GELU, the masked attention
    assertEquals(
        Map.of("SKIP_LAYER_NORM_BIAS", 2, "BIAS_GELU", 1, "FUSED_MATMUL_SCORES", 1),
        OnnxEmitter.fusions(g, Target.ORT));
  }

  // ---------------------------------------------------------------- support

  /**
   * Imports {@code name}.onnx, checks what was raised (the counts the import records, none when
   * {@code raised} is empty), and that the interpreter and the emitted graph for onnx17 and ort
   * equal ONNX Runtime on the file itself; returns the imported graph.
   */
  private static Graph check(String name, Map<String, Integer> raised) {
    byte[] file = resource(name);
    ImportedModule m = OnnxImporter.load(file, null);
    Graph g = new Graph("t");
    Map<String, Tensor> original = new LinkedHashMap<>();
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    List<Value> args = new ArrayList<>();
    for (int i = 0; i < m.inputNames().size(); i++) {
      TensorType t = m.inputTypes().get(i);
      long[] shape = new long[t.rank()];
      for (int a = 0; a < shape.length; a++) {
        shape[a] = t.dim(a).value();
      }
      Tensor x = input(m.inputNames().get(i), i, shape);
      original.put(m.inputNames().get(i), x);
      feeds.put("in" + i, x);
      args.add(g.addInput("in" + i, t, LOC));
    }
    List<Value> outs = m.apply(g, args, "m", LOC);
    for (int i = 0; i < outs.size(); i++) {
      g.setOutput("out" + i, outs.get(i));
    }
    String counts = g.metadata().get(PatternRaising.RAISED_KEY + "m");
    if (raised.isEmpty()) {
      assertNull(counts, name + " must not be raised: " + g.nodes());
    } else {
      List<String> want = new ArrayList<>();
      new TreeMap<>(raised).forEach((k, v) -> want.add(k + " " + v));
      assertEquals(String.join(", ", want), counts, name + ": " + g.nodes());
    }
    Map<String, Tensor> ref = ImportSupport.runModel(file, original);
    Map<String, Tensor> interp = Interpreter.run(g, feeds, OnnxRegionRunner.CPU);
    Map<String, Tensor> o17 = ImportSupport.runEmitted(g, feeds);
    Map<String, Tensor> ort =
        ImportSupport.runModel(
            OnnxEmitter.emit(g, EmitOptions.defaults().withTarget(Target.ORT)), feeds);
    for (int i = 0; i < outs.size(); i++) {
      Tensor w = ref.get(m.outputNames().get(i));
      for (Map<String, Tensor> got : List.of(interp, o17, ort)) {
        Tensor h = got.get("out" + i);
        assertTrue(
            ImportSupport.close(h, w, TOL, TOL, false),
            name + " output " + i + ": max |diff| " + ImportSupport.maxAbsDiff(h, w));
      }
    }
    return g;
  }

  /** Inputs in [-2, 2); a mask input gets 0 or 1 (bert_block) or 0 or -10000 (attention). */
  private static Tensor input(String name, long seed, long[] shape) {
    Random r = new Random(seed + 17);
    float[] v = new float[(int) Tensor.numel(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextFloat() * 4 - 2;
    }
    if (name.equals("mask")) {
      for (int i = 0; i < v.length; i++) {
        boolean keep = i % 5 != 4;
        v[i] = shape.length == 2 ? (keep ? 1 : 0) : (keep ? 0 : -10000);
      }
    }
    return Tensor.ofFloats(shape, v);
  }

  private static byte[] resource(String name) {
    try (InputStream in =
        PatternRaisingTest.class.getResourceAsStream("/raising/" + name + ".onnx")) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** The distinct non-leaf ops of {@code g}, in graph order. */
  private static List<Op> ops(Graph g) {
    return g.nodes().stream().map(Node::op).filter(o -> !o.isLeaf()).distinct().toList();
  }

  private static Node only(Graph g, Op op) {
    List<Node> ns = g.nodes().stream().filter(n -> n.op() == op).toList();
    assertEquals(1, ns.size(), op + " in " + g.nodes());
    return ns.get(0);
  }
}
