package dev.cmod.onnx.emit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.EmitOptions;
import dev.cmod.onnx.OnnxEmitter;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.Precision;
import dev.cmod.onnx.Target;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The half-precision step on a hand-built block (projection, residual layer norm, RMS norm,
 * softmax, sum, attention): in the emitted ONNX graph the norms, softmax and reductions read f32
 * (or are a fused operator with f32 statistics), the projection's weight is stored f16 and its
 * MatMul computes f16, inputs and outputs stay f32; each target's f16 artifact agrees with the
 * interpreter on the f32 graph within 1 % of the output's largest magnitude; the bytes are
 * deterministic.
 */
class HalfPrecisionTest {
  private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
  private static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;

  /** y = layer_norm(x + x @ w); the RMS norm, softmax, sum and an attention of it as outputs. */
  private static Graph block() {
    Random rnd = new Random(3);
    Graph g = new Graph("block");
    Value x = g.addInput("x", TensorType.of(DType.F32, 2, 4, 8), null);
    Value w = g.addParam("w", normal(rnd, 8, 8), false, null);
    Value gamma = g.addParam("gamma", normal(rnd, 8), false, null);
    Value beta = g.addParam("beta", normal(rnd, 8), false, null);
    Value h = op(g, Op.MATMUL, Attrs.NONE, x, w);
    Value sum = op(g, Op.ADD, Attrs.NONE, x, h);
    Value ln = op(g, Op.LAYER_NORM, Attrs.of("eps", 1e-5), sum, gamma, beta);
    Value rms = op(g, Op.RMS_NORM, Attrs.of("eps", 1e-6), h, gamma);
    Value sm = op(g, Op.SOFTMAX, Attrs.of("axis", 2L), h);
    Value red = op(g, Op.REDUCE_SUM, Attrs.of("axis", 2L, "keep", true), h);
    Value att = op(g, Op.ATTENTION, Attrs.of("causal", true), ln, ln, ln);
    g.setOutput("ln", ln);
    g.setOutput("rms", rms);
    g.setOutput("sm", sm);
    g.setOutput("red", red);
    g.setOutput("att", att);
    return g;
  }

  private static Value op(Graph g, Op op, Attrs a, Value... in) {
    return g.add(op, a, List.of(in), null).out();
  }

  private static Tensor normal(Random rnd, long... shape) {
    float[] f = new float[Math.toIntExact(Tensor.numel(shape))];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) rnd.nextGaussian();
    }
    return Tensor.ofFloats(shape, f);
  }

  private static ModelProto emit(Graph g, Target t) {
    return OnnxEmitter.build(g, EmitOptions.defaults().withTarget(t).withPrecision(Precision.F16));
  }

  @Test
  void normsSoftmaxAndReductionsReadF32AndTheProjectionIsF16() {
    ModelProto m = emit(block(), Target.ONNX17);
    Map<String, Integer> types = elementTypes(m);
    for (ValueInfoProto v : m.getGraph().getInputList()) {
      assertEquals(FLOAT, v.getType().getTensorType().getElemType(), "input " + v.getName());
    }
    for (ValueInfoProto v : m.getGraph().getOutputList()) {
      assertEquals(FLOAT, v.getType().getTensorType().getElemType(), "output " + v.getName());
      assertEquals(FLOAT, types.get(v.getName()), "output " + v.getName() + " is made f32");
    }
    assertEquals(FLOAT16, initializerType(m, "w"), "the projection's weight is stored f16");
    assertEquals(FLOAT, initializerType(m, "gamma"), "a scale only norms read stays f32");
    int kept = 0;
    for (NodeProto n : m.getGraph().getNodeList()) {
      switch (n.getOpType()) {
        case "LayerNormalization", "Softmax", "ReduceSum", "ReduceMean" -> {
          assertEquals(FLOAT, types.get(n.getInput(0)), n.getName() + " reads f32");
          kept++;
        }
        case "MatMul" -> {
          if (n.getInputList().contains("w")) {
            assertEquals(FLOAT16, types.get(n.getInput(0)), n.getName() + " computes f16");
          }
        }
        default -> {}
      }
    }
    // layer norm, softmax, the attention's softmax, the sum, and the RMS norm's mean
    assertEquals(5, kept, "f32 operators");
    assertEquals("f16", metadata(m).get("cmod.precision"));
  }

  @Test
  void fusedNormsTakeF16WithTheirOwnF32StatisticsAndAttentionItsSoftmaxInF32() {
    ModelProto ort = emit(block(), Target.ORT);
    Map<String, Integer> types = elementTypes(ort);
    NodeProto skip = node(ort, "SkipLayerNormalization");
    assertEquals(FLOAT16, types.get(skip.getInput(0)), "SkipLayerNormalization takes f16");
    assertTrue(
        OnnxEmitter.fusions(block(), Target.ORT, Precision.F16).containsKey("SKIP_LAYER_NORM"));

    ModelProto o23 = emit(block(), Target.ONNX23);
    Map<String, Integer> t23 = elementTypes(o23);
    NodeProto rms = node(o23, "RMSNormalization");
    assertEquals(FLOAT16, t23.get(rms.getInput(0)), "RMSNormalization takes f16");
    NodeProto att = node(o23, "Attention");
    assertEquals(FLOAT16, t23.get(att.getInput(0)), "Attention takes f16");
    assertEquals(FLOAT, intAttr(att, "softmax_precision"), "with its softmax in f32");
  }

  @Test
  void everyTargetsF16ArtifactAgreesWithTheInterpreterWithinOnePercent() {
    Graph g = block();
    Map<String, Tensor> feeds = Map.of("x", normal(new Random(5), 2, 4, 8));
    Map<String, Tensor> want = Interpreter.run(g, feeds);
    for (Target t : Target.values()) {
      Map<String, Tensor> got;
      try (OnnxRunner r = OnnxRunner.open(emit(g, t).toByteArray(), OnnxRunner.Device.CPU)) {
        got = r.run(feeds);
      }
      for (String k : want.keySet()) {
        Tensor a = want.get(k);
        Tensor b = got.get(k);
        assertArrayEquals(a.shape(), b.shape(), k);
        assertEquals(DType.F32, b.dtype(), t.text() + " " + k + " dtype");
        double max = 0;
        double err = 0;
        for (int i = 0; i < a.size(); i++) {
          max = Math.max(max, Math.abs(a.get(i)));
          err = Math.max(err, Math.abs(a.get(i) - b.get(i)));
        }
        assertTrue(err <= 0.01 * max, t.text() + " " + k + ": max|d| " + err + ", max|y| " + max);
      }
    }
  }

  @Test
  void weightPreparationStaysF32AndLargeConstantsStayFinite() {
    Graph g = new Graph("prep");
    Value x = g.addInput("x", TensorType.of(DType.F32, 3, 4), null);
    Value w = g.addParam("w", normal(new Random(1), 4, 4), false, null);
    Value big = g.addConst(Tensor.ofFloats(new long[0], new float[] {-1e9f}), null);
    Value twice = op(g, Op.ADD, Attrs.NONE, w, w);
    Value y = op(g, Op.ADD, Attrs.NONE, op(g, Op.MATMUL, Attrs.NONE, x, twice), big);
    g.setOutput("y", y);
    HalfPrecision.Result r = HalfPrecision.convert(g, Target.ONNX17);
    assertEquals(Map.of("weight preparation", 1), r.kept(), r.summary());
    ModelProto m = emit(g, Target.ONNX17);
    assertEquals(FLOAT, initializerType(m, "w"), "only the f32 preparation reads w");
    for (TensorProto t : m.getGraph().getInitializerList()) {
      if (t.getDataType() == FLOAT16) {
        short bits = (short) (t.getRawData().byteAt(0) & 0xff | t.getRawData().byteAt(1) << 8);
        assertEquals(-65504f, ai.onnxruntime.platform.Fp16Conversions.fp16ToFloat(bits), "clamped");
      }
    }
  }

  @Test
  void theSameGraphGivesTheSameBytesAndF32IsUnchanged() {
    for (Target t : Target.values()) {
      assertArrayEquals(emit(block(), t).toByteArray(), emit(block(), t).toByteArray(), t.text());
      assertArrayEquals(
          OnnxEmitter.emit(block(), EmitOptions.defaults().withTarget(t)),
          OnnxEmitter.emit(
              block(), EmitOptions.defaults().withTarget(t).withPrecision(Precision.F32)),
          t.text());
    }
    assertFalse(
        metadata(OnnxEmitter.build(block(), EmitOptions.defaults())).containsKey("cmod.precision"));
  }

  // ---------------------------------------------------------------- reading the ONNX graph

  /**
   * Element types of the graph's values: inputs and initializers as declared, a Cast's output its
   * {@code to}, a shape or comparison int64/bool, any other node's output the type of its first
   * float input (Where: its second).
   */
  private static Map<String, Integer> elementTypes(ModelProto m) {
    Map<String, Integer> t = new HashMap<>();
    for (ValueInfoProto v : m.getGraph().getInputList()) {
      t.put(v.getName(), v.getType().getTensorType().getElemType());
    }
    for (TensorProto i : m.getGraph().getInitializerList()) {
      t.put(i.getName(), i.getDataType());
    }
    for (NodeProto n : m.getGraph().getNodeList()) {
      Integer out = null;
      switch (n.getOpType()) {
        case "Cast" -> out = (int) intAttr(n, "to");
        case "Shape", "Range" -> out = TensorProto.DataType.INT64_VALUE;
        case "LessOrEqual", "Less", "Equal" -> out = TensorProto.DataType.BOOL_VALUE;
        default -> {
          List<String> in = new ArrayList<>(n.getInputList());
          if (n.getOpType().equals("Where")) {
            in.remove(0);
          }
          for (String s : in) {
            Integer k = t.get(s);
            if (k != null && (k == FLOAT || k == FLOAT16)) {
              out = k;
              break;
            }
          }
        }
      }
      if (out != null) {
        for (String o : n.getOutputList()) {
          t.put(o, out);
        }
      }
    }
    return t;
  }

  private static long intAttr(NodeProto n, String name) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    throw new AssertionError(n.getName() + " has no " + name);
  }

  private static int initializerType(ModelProto m, String name) {
    for (TensorProto i : m.getGraph().getInitializerList()) {
      if (i.getName().equals(name)) {
        return i.getDataType();
      }
    }
    throw new AssertionError("no initializer " + name);
  }

  private static NodeProto node(ModelProto m, String opType) {
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (n.getOpType().equals(opType)) {
        return n;
      }
    }
    throw new AssertionError("no " + opType + " node");
  }

  private static Map<String, String> metadata(ModelProto m) {
    Map<String, String> out = new HashMap<>();
    m.getMetadataPropsList().forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }
}
