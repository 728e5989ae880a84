package dev.cmod.onnx.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.graph.ImportedModule.ImportException;
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
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Unsupported operators, bad arguments, and the handling of weights and folded shapes on small
 * hand-built models.
 */
class ImporterErrorsTest {
  private static final SourceLoc LOC = new SourceLoc("t.cmod", 3, 5);

  private static ValueInfoProto info(String name, int elemType, Object... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      TensorShapeProto.Dimension.Builder b = TensorShapeProto.Dimension.newBuilder();
      if (d instanceof String p) {
        b.setDimParam(p);
      } else if (d != null) {
        b.setDimValue(((Number) d).longValue());
      }
      s.addDim(b);
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s)))
        .build();
  }

  private static byte[] model(int opset, GraphProto.Builder g) {
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setGraph(g.setName("g"))
        .build()
        .toByteArray();
  }

  private static NodeProto node(
      String op, String name, List<String> in, List<String> out, AttributeProto... attrs) {
    NodeProto.Builder b =
        NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(in).addAllOutput(out);
    for (AttributeProto a : attrs) {
      b.addAttribute(a);
    }
    return b.build();
  }

  /**
   * External data of a tensor inside a subgraph (an If branch's initializer) is read at import,
   * through the same checks: the opaque region copied into the artifact names no file, so neither
   * ONNX Runtime nor a serving engine ever opens one (found while adding opaque regions).
   */
  @Test
  void externalDataInsideASubgraphIsReadAtImport(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    java.nio.ByteBuffer buf =
        java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    buf.putFloat(10).putFloat(20);
    java.nio.file.Files.write(dir.resolve("w.bin"), buf.array());
    TensorProto w =
        TensorProto.newBuilder()
            .setName("w")
            .setDataType(1)
            .addDims(2)
            .setDataLocation(TensorProto.DataLocation.EXTERNAL)
            .addExternalData(kv("location", "w.bin"))
            .addExternalData(kv("offset", "0"))
            .addExternalData(kv("length", "8"))
            .build();
    GraphProto then =
        GraphProto.newBuilder()
            .setName("then")
            .addInitializer(w)
            .addNode(node("Add", "", List.of("x", "w"), List.of("t")))
            .addOutput(info("t", 1, 2))
            .build();
    GraphProto other =
        GraphProto.newBuilder()
            .setName("else")
            .addNode(node("Identity", "", List.of("x"), List.of("e")))
            .addOutput(info("e", 1, 2))
            .build();
    AttributeProto yes =
        AttributeProto.newBuilder()
            .setName("value")
            .setType(AttributeProto.AttributeType.TENSOR)
            .setT(TensorProto.newBuilder().setDataType(9).addInt32Data(1))
            .build();
    byte[] bytes =
        model(
            17,
            GraphProto.newBuilder()
                .addInput(info("x", 1, 2))
                .addOutput(info("y", 1, 2))
                .addNode(node("Constant", "", List.of(), List.of("c"), yes))
                .addNode(
                    node(
                        "If",
                        "branch",
                        List.of("c"),
                        List.of("y"),
                        AttributeProto.newBuilder()
                            .setName("then_branch")
                            .setType(AttributeProto.AttributeType.GRAPH)
                            .setG(then)
                            .build(),
                        AttributeProto.newBuilder()
                            .setName("else_branch")
                            .setType(AttributeProto.AttributeType.GRAPH)
                            .setG(other)
                            .build())));
    ImportedModule m = OnnxImporter.load(bytes, dir);
    Graph g = new Graph("t");
    Value x = g.addInput("x", TensorType.of(DType.F32, 2), LOC);
    g.setOutput("y", m.apply(g, List.of(x), "br", LOC).get(0));
    byte[] emitted = dev.cmod.onnx.OnnxEmitter.emit(g, dev.cmod.onnx.EmitOptions.defaults());
    String text = ModelProto.parseFrom(emitted).toString();
    assertTrue(!text.contains("w.bin") && !text.contains("EXTERNAL"), "names a file:\n" + text);
    Tensor in = Tensor.ofFloats(new long[] {2}, new float[] {1, 2});
    org.junit.jupiter.api.Assertions.assertArrayEquals(
        new float[] {11, 22}, ImportSupport.runEmitted(g, Map.of("x", in)).get("y").floats());
    // a link in its place is refused, as for any external data
    java.nio.file.Files.move(dir.resolve("w.bin"), dir.resolve("real.bin"));
    java.nio.file.Files.createSymbolicLink(dir.resolve("w.bin"), dir.resolve("real.bin"));
    ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.load(bytes, dir));
    assertTrue(e.getMessage().contains("w.bin"), e.getMessage());
  }

  private static StringStringEntryProto kv(String k, String v) {
    return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }

  /** An operator without an import entry is carried opaque and computes what ONNX says. */
  @Test
  void anOperatorWithoutAnEntryIsCarriedOpaque() {
    byte[] bytes =
        model(
            17,
            GraphProto.newBuilder()
                .addInput(info("x", 1, 2, 3))
                .addOutput(info("y", 1, 2, 3))
                .addNode(node("LpNormalization", "the_norm", List.of("x"), List.of("y"))));
    ImportedModule m = OnnxImporter.load(bytes, null);
    Graph g = new Graph("t");
    Value x = g.addInput("x", TensorType.of(DType.F32, 2, 3), LOC);
    g.setOutput("y", m.apply(g, List.of(x), "lp", LOC).get(0));
    assertEquals(1, g.nodes().stream().filter(n -> n.op() == Op.ONNX_REGION).count());
    Tensor in = Tensor.ofFloats(new long[] {2, 3}, new float[] {0, 3, 4, 3, -4, 0});
    float[] ort = ImportSupport.runEmitted(g, Map.of("x", in)).get("y").floats();
    float[] ref = Interpreter.run(g, Map.of("x", in), OnnxRegionRunner.CPU).get("y").floats();
    // each row over its Euclidean norm, 5
    float[] want = {0, 0.6f, 0.8f, 0.6f, -0.8f, 0};
    org.junit.jupiter.api.Assertions.assertArrayEquals(want, ort, 1e-6f);
    org.junit.jupiter.api.Assertions.assertArrayEquals(want, ref, 1e-6f);
  }

  /** A known operator in a variant its handler refuses (select_last_index) is carried opaque. */
  @Test
  void aRefusedVariantOfAKnownOperatorIsCarriedOpaque() {
    // MaxPool with dilations: the raised tier's pooling has none, so the node is carried opaque
    AttributeProto kernel =
        AttributeProto.newBuilder()
            .setName("kernel_shape")
            .setType(AttributeProto.AttributeType.INTS)
            .addInts(2)
            .addInts(2)
            .build();
    AttributeProto dilations = kernel.toBuilder().setName("dilations").build();
    byte[] bytes =
        model(
            17,
            GraphProto.newBuilder()
                .addInput(info("x", 1, 1, 1, 4, 4))
                .addOutput(info("y", 1, 1, 1, 2, 2))
                .addNode(node("MaxPool", "mp", List.of("x"), List.of("y"), kernel, dilations)));
    ImportedModule m = OnnxImporter.load(bytes, null);
    Graph g = new Graph("t");
    Value x = g.addInput("x", TensorType.of(DType.F32, 1, 1, 4, 4), LOC);
    g.setOutput("y", m.apply(g, List.of(x), "mp", LOC).get(0));
    assertEquals(1, g.nodes().stream().filter(n -> n.op() == Op.ONNX_REGION).count());
    float[] v = new float[16];
    for (int i = 0; i < v.length; i++) {
      v[i] = i + 1;
    }
    Tensor in = Tensor.ofFloats(new long[] {1, 1, 4, 4}, v);
    for (Map<String, Tensor> got :
        List.of(
            ImportSupport.runEmitted(g, Map.of("x", in)),
            Interpreter.run(g, Map.of("x", in), OnnxRegionRunner.CPU))) {
      // each window holds every other cell: 1 3 9 11 / 2 4 10 12 / 5 7 13 15 / 6 8 14 16
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          new float[] {11, 12, 15, 16}, got.get("y").floats());
    }
  }

  /**
   * A value the file gives no type, made by an opaque node and read by a later node the importer
   * knows: the region cannot end there (its outputs need types), so it grows over the known nodes
   * up to values the file types (here the graph's output), and the result equals the file on ORT.
   */
  @Test
  void anUntypedBoundaryGrowsTheRegion() {
    byte[] bytes =
        model(
            17,
            GraphProto.newBuilder()
                .addInput(info("x", 1, 2, 3))
                .addOutput(info("y", 1, 2, 3))
                .addNode(node("LpNormalization", "the_norm", List.of("x"), List.of("h")))
                .addNode(node("Relu", "r", List.of("x"), List.of("r")))
                .addNode(node("Add", "a", List.of("h", "r"), List.of("y"))));
    ImportedModule m = OnnxImporter.load(bytes, null);
    Graph g = new Graph("t");
    Value x = g.addInput("x", TensorType.of(DType.F32, 2, 3), LOC);
    g.setOutput("y", m.apply(g, List.of(x), "m", LOC).get(0));
    assertEquals(1, g.nodes().stream().filter(n -> n.op() == Op.ONNX_REGION).count());
    assertEquals(0, g.nodes().stream().filter(n -> n.op() == Op.ADD).count());
    Tensor in = Tensor.ofFloats(new long[] {2, 3}, new float[] {1, -2, 3, -4, 5, -6});
    Map<String, Tensor> want = ImportSupport.runModel(bytes, Map.of("x", in));
    for (Map<String, Tensor> got :
        List.of(
            ImportSupport.runEmitted(g, Map.of("x", in)),
            Interpreter.run(g, Map.of("x", in), OnnxRegionRunner.CPU))) {
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          want.get("y").floats(), got.get("y").floats());
    }
  }

  /**
   * A region reads a shape folded at import whose size is known only at run time (a Range up to the
   * batch size read through Shape → Gather): the region recomputes it from the nodes that made it,
   * and equals the file on ORT for two batch sizes.
   */
  @Test
  void aRegionRecomputesASymbolicShapeItReads() {
    TensorProto zero =
        TensorProto.newBuilder().setName("zero").setDataType(7).addInt64Data(0).build();
    TensorProto one =
        TensorProto.newBuilder().setName("one").setDataType(7).addInt64Data(1).build();
    byte[] bytes =
        model(
            17,
            GraphProto.newBuilder()
                .addInput(info("x", 1, "n", 3))
                .addOutput(info("r", 7, "n"))
                .addInitializer(zero)
                .addInitializer(one)
                .addNode(node("Shape", "s", List.of("x"), List.of("s")))
                .addNode(node("Gather", "g", List.of("s", "zero"), List.of("n")))
                .addNode(node("Range", "range", List.of("zero", "n", "one"), List.of("r"))));
    ImportedModule m = OnnxImporter.load(bytes, null);
    Graph g = new Graph("t");
    Value x = g.addInput("x", new TensorType(DType.F32, List.of(Dim.sym("batch"), Dim.of(3))), LOC);
    g.setOutput("r", m.apply(g, List.of(x), "m", LOC).get(0));
    assertEquals(1, g.nodes().stream().filter(n -> n.op() == Op.ONNX_REGION).count());
    for (int b : new int[] {2, 5}) {
      Tensor in = Tensor.ofFloats(new long[] {b, 3}, new float[b * 3]);
      Map<String, Tensor> want = ImportSupport.runModel(bytes, Map.of("x", in));
      for (Map<String, Tensor> got :
          List.of(
              ImportSupport.runEmitted(g, Map.of("x", in)),
              Interpreter.run(g, Map.of("x", in), OnnxRegionRunner.CPU))) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(
            want.get("r").longs(), got.get("r").longs());
        assertEquals(b, got.get("r").size());
      }
    }
  }

  /**
   * Weights PyTorch's exporter names by number ({@code onnx::MatMul_7}) get the path of their layer
   * from the scoped name of the one MatMul that reads them; a named weight keeps its name, and two
   * weights that would share a name keep theirs.
   */
  @Test
  void unnamedWeightsAreNamedAfterTheirLayer() {
    TensorProto w1 =
        TensorProto.newBuilder()
            .setName("onnx::MatMul_7")
            .setDataType(1)
            .addDims(3)
            .addDims(3)
            .addAllFloatData(List.of(1f, 0f, 0f, 0f, 2f, 0f, 0f, 0f, 3f))
            .build();
    TensorProto w2 = w1.toBuilder().setName("proj.weight").build();
    TensorProto w3 = w1.toBuilder().setName("onnx::MatMul_9").build();
    TensorProto w4 = w1.toBuilder().setName("onnx::MatMul_10").build();
    byte[] bytes =
        model(
            17,
            GraphProto.newBuilder()
                .addInput(info("x", 1, 2, 3))
                .addOutput(info("y", 1, 2, 3))
                .addInitializer(w1)
                .addInitializer(w2)
                .addInitializer(w3)
                .addInitializer(w4)
                .addNode(
                    node(
                        "MatMul",
                        "/encoder/layer.0/query/MatMul",
                        List.of("x", "onnx::MatMul_7"),
                        List.of("a")))
                .addNode(node("MatMul", "/proj/MatMul", List.of("a", "proj.weight"), List.of("b")))
                .addNode(
                    node("MatMul", "/twice/MatMul", List.of("b", "onnx::MatMul_9"), List.of("c")))
                .addNode(
                    node(
                        "MatMul",
                        "/twice/MatMul_1",
                        List.of("c", "onnx::MatMul_10"),
                        List.of("y"))));
    ImportedModule m = OnnxImporter.load(bytes, null);
    Graph g = new Graph("t");
    Value x = g.addInput("x", TensorType.of(DType.F32, 2, 3), LOC);
    g.setOutput("y", m.apply(g, List.of(x), "M", LOC).get(0));
    java.util.Set<String> paths = new java.util.TreeSet<>();
    for (dev.cmod.ir.graph.Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        paths.add(n.attrs().getString("path"));
      }
    }
    assertEquals(
        java.util.Set.of(
            "M.encoder.layer.0.query.weight",
            "M.proj.weight",
            "M.onnx__MatMul_9",
            "M.onnx__MatMul_10"),
        paths);
  }

  /**
   * The refusals of the opaque tier, word for word: a node of a model newer than the emitted opset
   * that has no form at that opset, and a region that reads nothing.
   */
  @Test
  void opaqueRegionsGiveTheirReasons() {
    List<Map.Entry<byte[], String>> cases =
        List.of(
            Map.entry(
                model(
                    20,
                    GraphProto.newBuilder()
                        .addInput(info("x", 1, 2, 3))
                        .addOutput(info("y", 1, 2, 3))
                        .addNode(
                            node(
                                "Gelu",
                                "s",
                                List.of("x"),
                                List.of("y"),
                                AttributeProto.newBuilder()
                                    .setName("approximate")
                                    .setType(AttributeProto.AttributeType.STRING)
                                    .setS(com.google.protobuf.ByteString.copyFromUtf8("erf"))
                                    .build()))),
                "ONNX operator 'Gelu' (node 's') at the model's opset 20 is carried opaque (runs on"
                    + " ONNX Runtime) and must be rewritten for opset 17, which cmod emits, but it"
                    + " has approximate = 'erf', which has no exact equivalent there; export the"
                    + " model at opset 17 (torch.onnx.export(..., opset_version=17)) or convert it"
                    + " (onnx.version_converter) before importing"),
            Map.entry(
                model(
                    17,
                    GraphProto.newBuilder()
                        .addInput(info("x", 1, 2, 3))
                        .addOutput(info("y", 1, 2, 3))
                        .addNode(
                            node(
                                "RandomNormal",
                                "rn",
                                List.of(),
                                List.of("y"),
                                AttributeProto.newBuilder()
                                    .setName("shape")
                                    .setType(AttributeProto.AttributeType.INTS)
                                    .addInts(2)
                                    .addInts(3)
                                    .build()))),
                "ONNX operator 'RandomNormal' (node 'rn') reads no input of the model, which the"
                    + " importer does not support"));
    for (Map.Entry<byte[], String> c : cases) {
      ImportedModule m = OnnxImporter.load(c.getKey(), null);
      Graph g = new Graph("t");
      Value x = g.addInput("x", TensorType.of(DType.F32, 2, 3), LOC);
      ImportException e =
          assertThrows(ImportException.class, () -> m.apply(g, List.of(x), "m", LOC));
      assertEquals(c.getValue(), e.getMessage());
    }
  }

  /**
   * A model whose output is the Shape (or Size) of a symbolic input: the shape is known only at run
   * time, so the node is carried opaque (it crashed the importer before).
   */
  @Test
  void shapeAndSizeOfASymbolicInputAsOutputs() {
    byte[] bytes =
        model(
            17,
            GraphProto.newBuilder()
                .addInput(info("x", 1, "n", 3))
                .addOutput(info("s", 7, 2))
                .addOutput(info("z", 7))
                .addNode(node("Shape", "sh", List.of("x"), List.of("s")))
                .addNode(node("Size", "sz", List.of("x"), List.of("z"))));
    ImportedModule m = OnnxImporter.load(bytes, null);
    Graph g = new Graph("t");
    Value x = g.addInput("x", new TensorType(DType.F32, List.of(Dim.sym("b"), Dim.of(3))), LOC);
    List<Value> outs = m.apply(g, List.of(x), "m", LOC);
    g.setOutput("s", outs.get(0));
    g.setOutput("z", outs.get(1));
    Tensor in = Tensor.ofFloats(new long[] {5, 3}, new float[15]);
    for (Map<String, Tensor> got :
        List.of(
            ImportSupport.runEmitted(g, Map.of("x", in)),
            Interpreter.run(g, Map.of("x", in), OnnxRegionRunner.CPU))) {
      assertEquals(List.of(5L, 3L), java.util.Arrays.stream(got.get("s").longs()).boxed().toList());
      assertEquals(15L, got.get("z").longs()[0]);
    }
  }

  /**
   * Silero VAD v5: its If (with LSTM and Pad inside) and the nodes around it are carried opaque;
   * the import computes what the original file computes on ONNX Runtime, emitted and on the
   * interpreter.
   */
  @Test
  void sileroVadImportsWithItsIfCarriedOpaque() throws Exception {
    Path p = ImportSupport.corpus("models/audio/silero_vad_v5.onnx");
    byte[] bytes = Files.readAllBytes(p);
    ImportedModule m = OnnxImporter.load(bytes, p.getParent());
    assertEquals(List.of("input", "state", "sr"), m.inputNames());
    Graph g = new Graph("vad");
    java.util.Random rng = new java.util.Random(5);
    float[] chunk = new float[512];
    for (int i = 0; i < chunk.length; i++) {
      chunk[i] = (float) (0.3 * Math.sin(i * 0.05) + 0.05 * rng.nextGaussian());
    }
    float[] state = new float[2 * 128];
    for (int i = 0; i < state.length; i++) {
      state[i] = (float) (0.1 * rng.nextGaussian());
    }
    List<Tensor> ins =
        List.of(
            Tensor.ofFloats(new long[] {1, 512}, chunk),
            Tensor.ofFloats(new long[] {2, 1, 128}, state),
            Tensor.ofLongs(DType.I64, new long[0], new long[] {16000}));
    Map<String, Tensor> feeds = new java.util.LinkedHashMap<>();
    Map<String, Tensor> originalFeeds = new java.util.LinkedHashMap<>();
    List<Value> args = new java.util.ArrayList<>();
    for (int i = 0; i < ins.size(); i++) {
      Tensor t = ins.get(i);
      // the file's own input types (symbolic sizes), as a .cmod wrapper declares them
      List<Dim> dims = new java.util.ArrayList<>();
      for (int a = 0; a < t.rank(); a++) {
        Dim d = m.inputTypes().get(i).dim(a);
        dims.add(d.isKnown() ? d : Dim.sym("s" + i + "_" + a));
      }
      args.add(g.addInput("in" + i, new TensorType(t.dtype(), dims), LOC));
      feeds.put("in" + i, t);
      originalFeeds.put(m.inputNames().get(i), t);
    }
    List<Value> outs = m.apply(g, args, "vad", LOC);
    for (int i = 0; i < outs.size(); i++) {
      g.setOutput("out" + i, outs.get(i));
    }
    assertTrue(g.nodes().stream().anyMatch(n -> n.op() == Op.ONNX_REGION));
    Map<String, Tensor> original = ImportSupport.runModel(bytes, originalFeeds);
    List<Tensor> want = new java.util.ArrayList<>(original.values());
    Map<String, Tensor> ort = ImportSupport.runEmitted(g, feeds);
    Map<String, Tensor> ref = Interpreter.run(g, feeds, OnnxRegionRunner.CPU);
    for (int i = 0; i < want.size(); i++) {
      assertTrue(
          ImportSupport.close(ort.get("out" + i), want.get(i), 1e-5, 1e-5, false),
          "ORT output " + i + ": " + ImportSupport.maxAbsDiff(ort.get("out" + i), want.get(i)));
      assertTrue(
          ImportSupport.close(ref.get("out" + i), want.get(i), 1e-5, 1e-5, false),
          "interpreter output " + i);
    }
  }

  @Test
  void garbageIsAnImportException() {
    assertThrows(ImportException.class, () -> OnnxImporter.load(new byte[] {1, 2, 3, 4}, null));
    assertThrows(ImportException.class, () -> OnnxImporter.load(new byte[0], null));
  }

  @Test
  void knownDimsAndDimParamsAreChecked() {
    byte[] bytes =
        model(
            17,
            GraphProto.newBuilder()
                .addInput(info("a", 1, "n", 4))
                .addInput(info("b", 1, "n", 4))
                .addOutput(info("y", 1, "n", 4))
                .addNode(node("Add", "add", List.of("a", "b"), List.of("y"))));
    ImportedModule m = OnnxImporter.load(bytes, null);
    assertEquals(List.of(Dim.sym("n"), Dim.of(4)), m.inputTypes().get(0).dims());
    Graph g = new Graph("t");
    Value a = g.addInput("a", TensorType.of(DType.F32, 2, 4), LOC);
    Value b3 = g.addInput("b3", TensorType.of(DType.F32, 3, 4), LOC);
    Value b5 = g.addInput("b5", TensorType.of(DType.F32, 2, 5), LOC);
    assertThrows(ShapeException.class, () -> m.apply(g, List.of(a, b3), "m", LOC));
    assertThrows(ShapeException.class, () -> m.apply(g, List.of(a, b5), "m", LOC));
    assertThrows(ShapeException.class, () -> m.apply(g, List.of(a), "m", LOC));
  }

  @Test
  void initializersBecomeFrozenParamsAndShapeChainsFold() {
    // y = Reshape(x @ W, Concat(Shape(x)[0:1], [-1])) with W an initializer
    float[] w = new float[12];
    for (int i = 0; i < w.length; i++) {
      w[i] = i * 0.5f - 2;
    }
    TensorProto.Builder wt =
        TensorProto.newBuilder().setName("fc/weight:0").setDataType(1).addDims(4).addDims(3);
    for (float f : w) {
      wt.addFloatData(f);
    }
    TensorProto minus1 =
        TensorProto.newBuilder().setName("m1").setDataType(7).addDims(1).addInt64Data(-1).build();
    TensorProto starts =
        TensorProto.newBuilder().setName("st").setDataType(7).addDims(1).addInt64Data(0).build();
    TensorProto ends =
        TensorProto.newBuilder().setName("en").setDataType(7).addDims(1).addInt64Data(1).build();
    GraphProto.Builder gp =
        GraphProto.newBuilder()
            .addInput(info("x", 1, "batch", 2, 4))
            .addOutput(info("y", 1, "batch", 6))
            .addInitializer(wt)
            .addInitializer(minus1)
            .addInitializer(starts)
            .addInitializer(ends)
            .addNode(node("MatMul", "mm", List.of("x", "fc/weight:0"), List.of("h")))
            .addNode(node("Shape", "shape", List.of("x"), List.of("s")))
            .addNode(node("Slice", "slice", List.of("s", "st", "en"), List.of("s0")))
            .addNode(
                node(
                    "Concat",
                    "cat",
                    List.of("s0", "m1"),
                    List.of("target"),
                    AttributeProto.newBuilder()
                        .setName("axis")
                        .setType(AttributeProto.AttributeType.INT)
                        .setI(0)
                        .build()))
            .addNode(node("Reshape", "reshape", List.of("h", "target"), List.of("y")));
    ImportedModule m = OnnxImporter.load(model(13, gp), null);
    assertEquals(List.of("x"), m.inputNames());
    Graph g = new Graph("t");
    Value x =
        g.addInput(
            "x", new TensorType(DType.F32, List.of(Dim.sym("B"), Dim.of(2), Dim.of(4))), LOC);
    Value y = m.apply(g, List.of(x), "enc", LOC).get(0);
    assertEquals(new TensorType(DType.F32, List.of(Dim.sym("B"), Dim.of(6))), y.type());
    List<Node> params = g.nodes().stream().filter(n -> n.op() == Op.PARAM).toList();
    assertEquals(1, params.size());
    assertEquals("enc.fc_weight_0", params.get(0).attrs().getString("path"));
    assertEquals(false, params.get(0).attrs().getBool("trainable", true));
    assertTrue(
        g.nodes().stream().noneMatch(n -> n.op() == Op.CONCAT || n.op() == Op.SLICE),
        "shape chain folded");
    g.setOutput("y", y);
    float[] xv = new float[3 * 8];
    for (int i = 0; i < xv.length; i++) {
      xv[i] = (i % 7) - 3;
    }
    Tensor in = Tensor.ofFloats(new long[] {3, 2, 4}, xv);
    Tensor ort = ImportSupport.runEmitted(g, Map.of("x", in)).get("y");
    Tensor ref = Interpreter.run(g, Map.of("x", in)).get("y");
    assertEquals(0.0, ImportSupport.maxAbsDiff(ort, ref), 1e-5);
    // hand-computed first element: sum_k x[0,0,k] * W[k,0]
    double want = 0;
    for (int k = 0; k < 4; k++) {
      want += xv[k] * w[k * 3];
    }
    assertEquals(want, ref.get(0), 1e-5);
  }
}
