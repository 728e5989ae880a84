package dev.cmod.onnx.importer;

import static dev.cmod.onnx.importer.RegionModels.BOOL;
import static dev.cmod.onnx.importer.RegionModels.F;
import static dev.cmod.onnx.importer.RegionModels.I64;
import static dev.cmod.onnx.importer.RegionModels.f;
import static dev.cmod.onnx.importer.RegionModels.feeds;
import static dev.cmod.onnx.importer.RegionModels.floats;
import static dev.cmod.onnx.importer.RegionModels.graph;
import static dev.cmod.onnx.importer.RegionModels.i;
import static dev.cmod.onnx.importer.RegionModels.imported;
import static dev.cmod.onnx.importer.RegionModels.info;
import static dev.cmod.onnx.importer.RegionModels.ints;
import static dev.cmod.onnx.importer.RegionModels.node;
import static dev.cmod.onnx.importer.RegionModels.parse;
import static dev.cmod.onnx.importer.RegionModels.random;
import static dev.cmod.onnx.importer.RegionModels.s;
import static dev.cmod.onnx.importer.RegionModels.sameAsOriginal;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxImporter;
import dev.cmod.onnx.OnnxRegionRunner;
import dev.cmod.onnx.importer.RegionModels.M;
import dev.cmod.testkit.Need;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Opaque regions of models older than the emitted opset 17 ({@link OpsetUpgrade}): each old form,
 * in a hand-built model where the importer carries it opaque (it reads the untyped output of an
 * operator the importer does not raise, or sits in an If or Loop body), is imported, emitted at
 * opset 17 and run on ONNX Runtime, and the outputs must equal those of the original file on ONNX
 * Runtime; the reference interpreter (which runs the region's own model on ONNX Runtime) too.
 */
class OpsetUpgradeTest {
  private static Map<String, Tensor> x(long... shape) {
    return feeds("x", random(7, shape));
  }

  @Test
  void unsqueezeAndSqueezeAxesBecomeInputs() {
    byte[] m =
        new M(11)
            .in("x", F, 2, 1, 3)
            .out("y", F, 1, 2, 1, 1, 3)
            .out("z", F, 2, 3)
            .opaqueX()
            .node("Unsqueeze", List.of("xn"), List.of("y"), ints("axes", 0, 2))
            .node("Squeeze", List.of("xn"), List.of("z"), ints("axes", -2))
            .bytes();
    sameAsOriginal(m, x(2, 1, 3));
  }

  /** The raised tier reads the old forms itself: the same nodes without a region stay raised. */
  @Test
  void raisedOldFormsStayRaised() {
    byte[] m =
        new M(11)
            .in("x", F, 2, 1, 3)
            .out("y", F, 1, 2, 1, 1, 3)
            .out("r", F, 2, 3)
            .node("Unsqueeze", List.of("x"), List.of("y"), ints("axes", 0, 2))
            .node("ReduceSum", List.of("x"), List.of("r"), ints("axes", 1), i("keepdims", 0))
            .bytes();
    Map<String, Tensor> feeds = x(2, 1, 3);
    Map<String, Tensor> want = ImportSupport.runModel(m, feeds);
    Graph g = imported(m, feeds);
    assertTrue(g.nodes().stream().noneMatch(n -> n.op() == Op.ONNX_REGION));
    Map<String, Tensor> got = ImportSupport.runEmitted(g, feeds);
    for (String o : List.of("y", "r")) {
      assertTrue(ImportSupport.close(got.get(o), want.get(o), 1e-6, 1e-7, false), o);
    }
  }

  @Test
  void reduceSumAndSplitBecomeInputs() {
    byte[] m =
        new M(11)
            .in("x", F, 2, 3, 4)
            .out("r", F, 2, 4)
            .out("a", F, 2, 1, 4)
            .out("b", F, 2, 2, 4)
            .opaqueX()
            .node("ReduceSum", List.of("xn"), List.of("r"), ints("axes", 1), i("keepdims", 0))
            .node("Split", List.of("xn"), List.of("a", "b"), i("axis", 1), ints("split", 1, 2))
            .bytes();
    sameAsOriginal(m, x(2, 3, 4));
  }

  @Test
  void sliceAttributesBecomeInputs() {
    byte[] m =
        new M(9)
            .in("x", F, 3, 4)
            .out("y", F, 2, 3)
            .out("z", F, 1, 4)
            .opaqueX()
            .node(
                "Slice",
                List.of("xn"),
                List.of("y"),
                ints("starts", 0, 1),
                ints("ends", 2, 100),
                ints("axes", 0, 1))
            .node("Slice", List.of("xn"), List.of("z"), ints("starts", -1), ints("ends", 3))
            .bytes();
    sameAsOriginal(m, x(3, 4));
  }

  @Test
  void padAttributesBecomeInputs() {
    byte[] m =
        new M(10)
            .in("x", F, 2, 3)
            .out("y", F, 2, 6)
            .out("z", F, 4, 3)
            .opaqueX()
            .node("Pad", List.of("xn"), List.of("y"), ints("pads", 0, 1, 0, 2), f("value", 1.5f))
            .node(
                "Pad", List.of("xn"), List.of("z"), ints("pads", 1, 0, 1, 0), s("mode", "reflect"))
            .bytes();
    sameAsOriginal(m, x(2, 3));
  }

  @Test
  void topKAndClipAttributesBecomeInputs() {
    byte[] m =
        new M(9)
            .in("x", F, 2, 5)
            .out("v", F, 2, 2)
            .out("k", I64, 2, 2)
            .out("c", F, 2, 5)
            .out("d", F, 2, 5)
            .opaqueX()
            .node("TopK", List.of("xn"), List.of("v", "k"), i("k", 2), i("axis", 1))
            .node("Clip", List.of("xn"), List.of("c"), f("min", -0.3f), f("max", 0.4f))
            .node("Clip", List.of("xn"), List.of("d"), f("max", 0.1f))
            .bytes();
    sameAsOriginal(m, x(2, 5));
  }

  @Test
  void dropoutAndBatchNormalizationLoseTheirOldAttributes() {
    byte[] m =
        new M(7)
            .in("x", F, 1, 2, 3, 3)
            .out("y", F, 1, 2, 3, 3)
            .out("bn", F, 1, 2, 3, 3)
            .init("scale", new float[] {0.5f, 2f}, 2)
            .init("bias", new float[] {0.1f, -0.2f}, 2)
            .init("mean", new float[] {0.05f, -0.1f}, 2)
            .init("var", new float[] {0.9f, 1.3f}, 2)
            .opaqueX()
            .node("Dropout", List.of("xn"), List.of("y"), f("ratio", 0.3f))
            .node(
                "BatchNormalization",
                List.of("xn", "scale", "bias", "mean", "var"),
                List.of("bn"),
                f("epsilon", 1e-3f),
                i("spatial", 1))
            .bytes();
    sameAsOriginal(m, x(1, 2, 3, 3));
  }

  @Test
  void dropoutTenKeepsItsMask() {
    byte[] m =
        new M(10)
            .in("x", F, 2, 3)
            .out("y", F, 2, 3)
            .out("mask", BOOL, 2, 3)
            .opaqueX()
            .node("Dropout", List.of("xn"), List.of("y", "mask"), f("ratio", 0.3f))
            .bytes();
    sameAsOriginal(m, x(2, 3));
    byte[] seven =
        new M(7)
            .in("x", F, 2, 3)
            .out("y", F, 2, 3)
            .out("mask", F, 2, 3)
            .opaqueX()
            .node("Dropout", List.of("xn"), List.of("y", "mask"), f("ratio", 0.3f))
            .bytes();
    sameAsOriginal(seven, x(2, 3));
  }

  @Test
  void upsampleBecomesResize() {
    byte[] seven =
        new M(7)
            .in("x", F, 1, 1, 2, 3)
            .out("y", F, 1, 1, 4, 9)
            .opaqueX() // Upsample is raised; after an untyped opaque value it joins the region
            .node(
                "Upsample",
                List.of("xn"),
                List.of("y"),
                s("mode", "nearest"),
                floats("scales", 1, 1, 2, 3))
            .bytes();
    sameAsOriginal(seven, x(1, 1, 2, 3));
    byte[] nine =
        new M(9)
            .in("x", F, 1, 1, 3, 3)
            .out("y", F, 1, 1, 6, 7)
            .init("scales", new float[] {1, 1, 2, 2.5f}, 4)
            .opaqueX()
            .node("Upsample", List.of("xn", "scales"), List.of("y"), s("mode", "linear"))
            .bytes();
    sameAsOriginal(nine, x(1, 1, 3, 3));
  }

  @Test
  void resizeTenKeepsItsRounding() {
    float[][] cases = {{1, 1, 0.6f, 0.5f}, {1, 1, 2.5f, 3}, {1, 1, 0.5f, 2.5f}};
    for (float[] sc : cases) {
      for (String mode : List.of("nearest", "linear")) {
        long h = (long) (5 * sc[2]);
        long w = (long) (4 * sc[3]);
        byte[] m =
            new M(10)
                .in("x", F, 1, 1, 5, 4)
                .out("y", F, 1, 1, h, w)
                .init("scales", sc, 4)
                .opaqueX() // constant scales are raised; after an opaque value, in the region
                .node("Resize", List.of("xn", "scales"), List.of("y"), s("mode", mode))
                .bytes();
        sameAsOriginal(m, x(1, 1, 5, 4));
      }
    }
    // scales known only at run time: the growing and the shrinking axes are resized apart
    byte[] dynamic =
        new M(10)
            .in("x", F, 1, 1, 5, 4)
            .in("scales", F, 4)
            .out("y", F, 1, 1, 2, 10)
            .node("Resize", List.of("x", "scales"), List.of("y"), s("mode", "nearest"))
            .bytes();
    Map<String, Tensor> feeds =
        feeds("x", random(3, 1, 1, 5, 4), "scales", Tensor.ofFloats(new long[] {4}, cases[2]));
    sameAsOriginal(dynamic, feeds);
  }

  @Test
  void resizeElevenWithSizesLeavesOutItsEmptyScales() {
    AttributeProto empty =
        AttributeProto.newBuilder()
            .setName("value")
            .setType(AttributeType.TENSOR)
            .setT(TensorProto.newBuilder().setDataType(F).addDims(0))
            .build();
    byte[] m =
        new M(11)
            .in("x", F, 1, 1, 4, 4)
            .in("sizes", I64, 4)
            .out("y", F, 1, 1, 3, 2)
            .node("Constant", List.of(), List.of("roi"), empty)
            .node("Constant", List.of(), List.of("scales"), empty)
            .node(
                "Resize",
                List.of("x", "roi", "scales", "sizes"),
                List.of("y"),
                s("mode", "nearest"),
                s("coordinate_transformation_mode", "tf_half_pixel_for_nn"))
            .bytes();
    Tensor sizes = Tensor.ofLongs(new long[] {4}, new long[] {1, 1, 3, 2});
    sameAsOriginal(m, feeds("x", random(6, 1, 1, 4, 4), "sizes", sizes));
  }

  @Test
  void scatterBecomesScatterElements() {
    byte[] m =
        new M(9)
            .in("x", F, 2, 5)
            .in("idx", I64, 2, 2)
            .in("upd", F, 2, 2)
            .out("y", F, 2, 5)
            .opaqueX() // Scatter is raised; after an untyped opaque value it joins the region
            .node("Scatter", List.of("xn", "idx", "upd"), List.of("y"), i("axis", 1))
            .bytes();
    Tensor idx = Tensor.ofLongs(new long[] {2, 2}, new long[] {1, 3, 0, 4});
    sameAsOriginal(m, feeds("x", random(1, 2, 5), "idx", idx, "upd", random(2, 2, 2)));
  }

  @Test
  void softmaxFamilyKeepsItsFlattenedMeaning() {
    byte[] m =
        new M(11)
            .in("x", F, 2, 3, 4)
            .out("a", F, 2, 3, 4)
            .out("b", F, 2, 3, 4)
            .out("c", F, 2, 3, 4)
            .opaqueX()
            .node("Softmax", List.of("xn"), List.of("a"), i("axis", 1))
            .node("LogSoftmax", List.of("xn"), List.of("b"), i("axis", -1))
            .node("Hardmax", List.of("xn"), List.of("c"))
            .bytes();
    sameAsOriginal(m, x(2, 3, 4));
  }

  @Test
  void roiAlignTenKeepsItsCoordinates() {
    byte[] m =
        new M(10)
            .in("x", F, 1, 1, 6, 6)
            .in("rois", F, 2, 4)
            .in("bi", I64, 2)
            .out("y", F, 2, 1, 2, 2)
            .node(
                "RoiAlign",
                List.of("x", "rois", "bi"),
                List.of("y"),
                i("output_height", 2),
                i("output_width", 2),
                i("sampling_ratio", 2))
            .bytes();
    Tensor rois = Tensor.ofFloats(new long[] {2, 4}, new float[] {0, 0, 3, 3, 1.5f, 0.5f, 5, 4});
    Tensor bi = Tensor.ofLongs(new long[] {2}, new long[] {0, 0});
    sameAsOriginal(m, feeds("x", random(5, 1, 1, 6, 6), "rois", rois, "bi", bi));
  }

  @Test
  void subgraphBodiesAreRewritten() {
    GraphProto then =
        GraphProto.newBuilder()
            .setName("then")
            .addNode(node("Unsqueeze", List.of("x"), List.of("t"), ints("axes", 0)))
            .addOutput(info("t", F, 1, 2, 3))
            .build();
    GraphProto otherwise =
        GraphProto.newBuilder()
            .setName("else")
            .addNode(node("Unsqueeze", List.of("x"), List.of("e0"), ints("axes", 0, 1)))
            .addNode(node("Squeeze", List.of("e0"), List.of("e"), ints("axes", 1)))
            .addOutput(info("e", F, 1, 2, 3))
            .build();
    byte[] m =
        new M(11)
            .in("x", F, 2, 3)
            .in("c", BOOL)
            .out("y", F, 1, 2, 3)
            .node(
                "If",
                List.of("c"),
                List.of("y"),
                graph("then_branch", then),
                graph("else_branch", otherwise))
            .bytes();
    for (boolean c : new boolean[] {true, false}) {
      Tensor cond =
          Tensor.ofLongs(dev.cmod.ir.type.DType.BOOL, new long[0], new long[] {c ? 1 : 0});
      Map<String, Tensor> feeds = feeds("x", random(4, 2, 3), "c", cond);
      Map<String, Tensor> want = ImportSupport.runModel(m, feeds);
      Graph g = imported(m, feeds);
      Map<String, Tensor> got = ImportSupport.runEmitted(g, feeds);
      assertTrue(ImportSupport.close(got.get("y"), want.get("y"), 0, 0, false));
    }
  }

  @Test
  void scanEightBecomesALoopOverTheBatch() {
    GraphProto body =
        GraphProto.newBuilder()
            .setName("body")
            .addInput(info("s_in", F, 2))
            .addInput(info("e", F, 2))
            .addNode(node("Add", List.of("s_in", "e"), List.of("s_out")))
            .addNode(node("Unsqueeze", List.of("s_out"), List.of("u"), ints("axes", 0)))
            .addNode(node("Squeeze", List.of("u"), List.of("o"), ints("axes", 0)))
            .addOutput(info("s_out", F, 2))
            .addOutput(info("o", F, 2))
            .build();
    byte[] m =
        new M(8)
            .in("init", F, 3, 2)
            .in("x", F, 3, 4, 2)
            .out("y", F, 3, 2)
            .out("z", F, 3, 4, 2)
            .node(
                "Scan",
                List.of("", "init", "x"),
                List.of("y", "z"),
                graph("body", body),
                i("num_scan_inputs", 1),
                ints("directions", 1))
            .bytes();
    sameAsOriginal(m, feeds("init", random(8, 3, 2), "x", random(9, 3, 4, 2)));
  }

  @Test
  void whatHasNoExactFormIsRefusedByName() {
    GraphProto body =
        GraphProto.newBuilder()
            .setName("body")
            .addInput(info("s_in", F, 2))
            .addInput(info("e", F, 2))
            .addNode(node("Add", List.of("s_in", "e"), List.of("s_out")))
            .addOutput(info("s_out", F, 2))
            .build();
    byte[] scan =
        new M(8)
            .in("lens", TensorProto.DataType.INT32_VALUE, 3)
            .in("init", F, 3, 2)
            .in("x", F, 3, 4, 2)
            .out("y", F, 3, 2)
            .node(
                "Scan",
                List.of("lens", "init", "x"),
                List.of("y"),
                graph("body", body),
                i("num_scan_inputs", 1))
            .bytes();
    ImportException e =
        assertThrows(
            ImportException.class,
            () ->
                imported(
                    scan,
                    feeds(
                        "lens",
                        Tensor.ofLongs(dev.cmod.ir.type.DType.I32, new long[] {3}, new long[3]),
                        "init",
                        random(1, 3, 2),
                        "x",
                        random(2, 3, 4, 2))));
    assertTrue(e.getMessage().contains("'Scan'"), e.getMessage());
    assertTrue(e.getMessage().contains("opset 8"), e.getMessage());
    assertTrue(e.getMessage().contains("onnx.version_converter"), e.getMessage());
    byte[] bn =
        new M(7)
            .in("x", F, 1, 2, 2)
            .out("y", F, 1, 2, 2)
            .init("s", new float[] {1, 1, 1, 1}, 2, 2)
            .opaqueX()
            .node(
                "BatchNormalization",
                List.of("xn", "s", "s", "s", "s"),
                List.of("y"),
                i("spatial", 0))
            .bytes();
    e = assertThrows(ImportException.class, () -> imported(bn, x(1, 2, 2)));
    assertTrue(e.getMessage().contains("spatial = 0"), e.getMessage());
  }

  /** The ONNX node tests whose opaque regions failed at opset 17 before they were rewritten. */
  @Test
  void oldOpsetNodeTestsMatchTheirExpectedOutputs() throws Exception {
    Need.ONNX_TESTDATA.require();
    for (String name :
        List.of(
            "test_scatter_with_axis",
            "test_scatter_without_axis",
            "test_upsample_nearest",
            "test_loop11",
            "test_scan_sum")) {
      Path dir = Need.onnxTestData().resolve(name);
      byte[] model = Files.readAllBytes(dir.resolve("model.onnx"));
      ModelProto proto = parse(model);
      Map<String, Tensor> feeds = new LinkedHashMap<>();
      for (int k = 0; k < proto.getGraph().getInputCount(); k++) {
        feeds.put(
            proto.getGraph().getInput(k).getName(),
            OnnxImporter.readTensor(
                Files.readAllBytes(dir.resolve("test_data_set_0/input_" + k + ".pb"))));
      }
      Graph g = imported(model, feeds);
      Map<String, Tensor> got = ImportSupport.runEmitted(g, feeds);
      Map<String, Tensor> interp = Interpreter.run(g, feeds, OnnxRegionRunner.CPU);
      for (int k = 0; k < proto.getGraph().getOutputCount(); k++) {
        String out = proto.getGraph().getOutput(k).getName();
        Tensor want =
            OnnxImporter.readTensor(
                Files.readAllBytes(dir.resolve("test_data_set_0/output_" + k + ".pb")));
        assertTrue(ImportSupport.close(got.get(out), want, 1e-3, 1e-4, true), name + " " + out);
        assertTrue(ImportSupport.close(interp.get(out), want, 1e-3, 1e-4, true), name + " " + out);
      }
    }
  }
}
