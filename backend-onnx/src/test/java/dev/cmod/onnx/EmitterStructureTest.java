package dev.cmod.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The structure of emitted models: names, doc strings, initializers, metadata, determinism. */
class EmitterStructureTest {
  private static final SourceLoc LOC = new SourceLoc("mlp.cmod", 12, 5);

  /** x[2,4] @ w + b -&gt; gelu -&gt; * const; outputs "y", "h" (= y again), "w_out" (a param). */
  static Graph mlp() {
    Graph g = new Graph("mlp");
    g.metadata().put("doc", "a tiny MLP");
    g.metadata().put("zeta", "first");
    g.metadata().put("alpha", "second");
    Value x = g.addInput("x", TensorType.of(DType.F32, 2, 4), LOC);
    Value w =
        g.addParam(
            "blocks.0.mlp.fc.weight",
            Tensor.ofFloats(new long[] {4, 3}, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}),
            true,
            LOC);
    Value b =
        g.addParam(
            "blocks.0.mlp.fc.bias",
            Tensor.ofFloats(new long[] {3}, new float[] {0.5f, -0.5f, 0}),
            true,
            LOC);
    Value c = g.addConst(Tensor.scalar(2f), new SourceLoc("mlp.cmod", 13, 9));
    Node mm = g.add(Op.MATMUL, Attrs.NONE, List.of(x, w), LOC);
    Node add = g.add(Op.ADD, Attrs.NONE, List.of(mm.out(), b), new SourceLoc("mlp.cmod", 12, 20));
    Node act = g.add(Op.GELU, Attrs.NONE, List.of(add.out()), new SourceLoc("mlp.cmod", 13, 3));
    Node scaled =
        g.add(Op.MUL, Attrs.NONE, List.of(act.out(), c), new SourceLoc("mlp.cmod", 14, 1));
    g.setOutput("y", scaled.out());
    g.setOutput("h", scaled.out());
    g.setOutput("w_out", w);
    return g;
  }

  private static ModelProto parse(byte[] bytes) throws Exception {
    return ModelProto.parseFrom(bytes);
  }

  @Test
  void emittingTwiceGivesIdenticalBytes() {
    Graph g = mlp();
    byte[] a = OnnxEmitter.emit(g, EmitOptions.defaults());
    byte[] b = OnnxEmitter.emit(g, EmitOptions.defaults());
    assertArrayEquals(a, b);
    assertArrayEquals(
        a, OnnxEmitter.emit(mlp(), EmitOptions.defaults()), "a rebuilt graph emits the same bytes");
    byte[] s1 = OnnxEmitter.emit(SymbolicDimsTest.model().g, EmitOptions.defaults());
    byte[] s2 = OnnxEmitter.emit(SymbolicDimsTest.model().g, EmitOptions.defaults());
    assertArrayEquals(s1, s2);
  }

  @Test
  void versionsAndProducer() throws Exception {
    ModelProto m = parse(OnnxEmitter.emit(mlp(), new EmitOptions("9.9.9")));
    assertEquals(OnnxVersions.IR_VERSION, m.getIrVersion());
    assertEquals(1, m.getOpsetImportCount());
    assertEquals("", m.getOpsetImport(0).getDomain());
    assertEquals(17, m.getOpsetImport(0).getVersion());
    assertEquals("cmod", m.getProducerName());
    assertEquals("9.9.9", m.getProducerVersion());
    assertEquals("mlp", m.getGraph().getName());
  }

  @Test
  void metadataKeepsItsOrder() throws Exception {
    ModelProto m = parse(OnnxEmitter.emit(mlp(), EmitOptions.defaults()));
    assertEquals("a tiny MLP", m.getDocString());
    assertEquals(
        List.of("doc", "zeta", "alpha"),
        m.getMetadataPropsList().stream()
            .map(StringStringEntryProto::getKey)
            .collect(Collectors.toList()));
    assertEquals(
        List.of("a tiny MLP", "first", "second"),
        m.getMetadataPropsList().stream()
            .map(StringStringEntryProto::getValue)
            .collect(Collectors.toList()));
  }

  @Test
  void namesAndDocStrings() throws Exception {
    Graph g = mlp();
    ModelProto m = parse(OnnxEmitter.emit(g, EmitOptions.defaults()));
    Map<String, NodeProto> nodes =
        m.getGraph().getNodeList().stream().collect(Collectors.toMap(NodeProto::getName, n -> n));
    // ids: x=0, w=1, b=2, c=3, matmul=4, add=5, gelu=6, mul=7; the 2-D matmul + add is one Gemm,
    // named and located by its root (the add), writing the add's value
    assertFalse(nodes.containsKey("n4_matmul"), "the product is fused into the Gemm");
    assertEquals("Gemm", nodes.get("n5_add").getOpType());
    assertEquals("mlp.cmod:12:20", nodes.get("n5_add").getDocString());
    assertEquals(
        List.of("x", "blocks.0.mlp.fc.weight", "blocks.0.mlp.fc.bias"),
        nodes.get("n5_add").getInputList());
    assertEquals(List.of("v5"), nodes.get("n5_add").getOutputList());
    assertEquals("mlp.cmod:13:3", nodes.get("n6_gelu").getDocString());
    assertEquals(List.of("v6"), nodes.get("n6_gelu").getOutputList());
    assertEquals(List.of("v6", "const_3"), nodes.get("n7_mul").getInputList());
    assertEquals(
        List.of("y"), nodes.get("n7_mul").getOutputList(), "the first output names the value");
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (n.getName().startsWith("n6_gelu")) {
        assertEquals(
            "mlp.cmod:13:3",
            n.getDocString(),
            "helper nodes carry the location too: " + n.getName());
      }
    }
    assertEquals(nodes.size(), m.getGraph().getNodeCount(), "node names are unique");

    List<String> inits =
        m.getGraph().getInitializerList().stream()
            .map(TensorProto::getName)
            .collect(Collectors.toList());
    assertTrue(
        inits.containsAll(List.of("blocks.0.mlp.fc.weight", "blocks.0.mlp.fc.bias", "const_3")),
        inits.toString());
    assertEquals(
        List.of("x"),
        m.getGraph().getInputList().stream()
            .map(ValueInfoProto::getName)
            .collect(Collectors.toList()),
        "initializers are not graph inputs");
    assertEquals(
        List.of("y", "h", "w_out"),
        m.getGraph().getOutputList().stream()
            .map(ValueInfoProto::getName)
            .collect(Collectors.toList()));

    // outputs sharing a value, or naming a parameter, go through Identity
    NodeProto idH =
        m.getGraph().getNodeList().stream()
            .filter(n -> n.getOutputList().equals(List.of("h")))
            .findFirst()
            .orElseThrow();
    assertEquals("Identity", idH.getOpType());
    assertEquals(List.of("y"), idH.getInputList());
    NodeProto idW =
        m.getGraph().getNodeList().stream()
            .filter(n -> n.getOutputList().equals(List.of("w_out")))
            .findFirst()
            .orElseThrow();
    assertEquals("Identity", idW.getOpType());
    assertEquals(List.of("blocks.0.mlp.fc.weight"), idW.getInputList());
  }

  @Test
  void docStringsCanBeTurnedOff() throws Exception {
    ModelProto m = parse(OnnxEmitter.emit(mlp(), new EmitOptions("x", false)));
    for (NodeProto n : m.getGraph().getNodeList()) {
      assertFalse(n.hasDocString() && !n.getDocString().isEmpty(), n.getName());
    }
  }

  @Test
  void initializersHoldRawLittleEndianData() throws Exception {
    Graph g = new Graph("inits");
    Value x = g.addInput("x", TensorType.of(DType.F32, 2), LOC);
    Value f =
        g.addParam("p.f32", Tensor.ofFloats(new long[] {2}, new float[] {1.5f, -2}), false, LOC);
    Value h =
        g.addParam(
            "p.f16",
            Tensor.ofFloats(DType.F16, new long[] {2}, new float[] {1.5f, -2}),
            false,
            LOC);
    Value bf =
        g.addParam(
            "p.bf16",
            Tensor.ofFloats(DType.BF16, new long[] {2}, new float[] {1.5f, -2}),
            false,
            LOC);
    Value l = g.addConst(Tensor.ofLongs(new long[] {2}, new long[] {1, -1}), LOC);
    Value bo = g.addConst(Tensor.ofLongs(DType.BOOL, new long[] {2}, new long[] {1, 0}), LOC);
    g.setOutput("y", g.add(Op.ADD, Attrs.NONE, List.of(x, f), LOC).out());
    for (Value v : List.of(h, bf, l, bo)) {
      g.setOutput("o" + v.node().id(), v);
    }
    ModelProto m = parse(OnnxEmitter.emit(g, EmitOptions.defaults()));
    Map<String, TensorProto> inits =
        m.getGraph().getInitializerList().stream()
            .collect(Collectors.toMap(TensorProto::getName, t -> t));
    ByteBuffer f32 =
        inits.get("p.f32").getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(1, inits.get("p.f32").getDataType());
    assertEquals(1.5f, f32.getFloat(0));
    assertEquals(-2f, f32.getFloat(4));
    assertEquals(10, inits.get("p.f16").getDataType());
    ByteBuffer f16 =
        inits.get("p.f16").getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertEquals((short) 0x3e00, f16.getShort(0));
    assertEquals((short) 0xc000, f16.getShort(2));
    ByteBuffer b16 =
        inits.get("p.bf16").getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(16, inits.get("p.bf16").getDataType());
    assertEquals((short) 0x3fc0, b16.getShort(0));
    assertEquals((short) 0xc000, b16.getShort(2));
    TensorProto i64 = inits.get("const_" + l.node().id());
    assertEquals(7, i64.getDataType());
    assertEquals(16, i64.getRawData().size());
    assertEquals(
        -1L, i64.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getLong(8));
    TensorProto b = inits.get("const_" + bo.node().id());
    assertEquals(9, b.getDataType());
    assertArrayEquals(new byte[] {1, 0}, b.getRawData().toByteArray());
    assertTrue(OnnxChecks.validate(m.toByteArray(), null).isEmpty());

    // and ORT reads them back
    Map<String, Tensor> out =
        TestSupport.runOrt(g, Map.of("x", Tensor.ofFloats(new long[] {2}, new float[] {1, 1})));
    TestSupport.assertClose(
        Tensor.ofFloats(new long[] {2}, new float[] {2.5f, -1}), out.get("y"), "y");
    TestSupport.assertClose(
        Tensor.ofFloats(DType.F16, new long[] {2}, new float[] {1.5f, -2}),
        out.get("o" + h.node().id()),
        "f16");
    TestSupport.assertClose(
        Tensor.ofFloats(DType.BF16, new long[] {2}, new float[] {1.5f, -2}),
        out.get("o" + bf.node().id()),
        "bf16");
    TestSupport.assertClose(
        Tensor.ofLongs(new long[] {2}, new long[] {1, -1}), out.get("o" + l.node().id()), "i64");
    TestSupport.assertClose(
        Tensor.ofLongs(DType.BOOL, new long[] {2}, new long[] {1, 0}),
        out.get("o" + bo.node().id()),
        "bool");
  }

  @Test
  void mlpRunsAndMatchesTheInterpreter() {
    Graph g = mlp();
    Tensor x =
        Tensor.ofFloats(
            new long[] {2, 4}, new float[] {0.1f, -0.2f, 0.3f, 0.05f, -0.1f, 0.0f, 0.2f, -0.3f});
    Map<String, Tensor> got = TestSupport.runOrt(g, Map.of("x", x));
    TestSupport.assertClose(got.get("y"), got.get("h"), "h == y");
    TestSupport.assertAllClose(TestSupport.reference(g, Map.of("x", x)), got, "mlp vs interpreter");
  }

  @Test
  void clashingNamesAreRejected() {
    Graph g = new Graph("clash");
    Value x = g.addInput("x", TensorType.of(DType.F32, 2), LOC);
    g.addParam("x", Tensor.ofFloats(new long[] {2}, new float[] {1, 2}), false, LOC);
    g.setOutput("y", g.add(Op.NEG, Attrs.NONE, List.of(x), LOC).out());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> OnnxEmitter.emit(g, EmitOptions.defaults()));
    assertTrue(e.getMessage().contains("'x'"), e.getMessage());
  }

  @Test
  void generatedNamesAvoidUserNames() throws Exception {
    Graph g = new Graph("avoid");
    Value x = g.addInput("v1", TensorType.of(DType.F32, 2), LOC);
    Node neg = g.add(Op.NEG, Attrs.NONE, List.of(x), LOC);
    Node gelu = g.add(Op.GELU, Attrs.NONE, List.of(neg.out()), LOC);
    g.setOutput("c0", gelu.out());
    ModelProto m = parse(OnnxEmitter.emit(g, EmitOptions.defaults()));
    assertEquals(
        List.of("v1_1"), m.getGraph().getNode(0).getOutputList(), "v1 is the input's name");
    assertFalse(m.getGraph().getInitializerList().stream().anyMatch(t -> t.getName().equals("c0")));
    Map<String, Tensor> out =
        TestSupport.runOrt(g, Map.of("v1", Tensor.ofFloats(new long[] {2}, new float[] {0, 30})));
    TestSupport.assertClose(
        Tensor.ofFloats(new long[] {2}, new float[] {0, -0f}), out.get("c0"), "gelu(-x)");
  }
}
