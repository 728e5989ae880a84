package dev.cmod.onnx.importer;

import static dev.cmod.onnx.importer.RegionModels.BOOL;
import static dev.cmod.onnx.importer.RegionModels.F;
import static dev.cmod.onnx.importer.RegionModels.I64;
import static dev.cmod.onnx.importer.RegionModels.f;
import static dev.cmod.onnx.importer.RegionModels.feeds;
import static dev.cmod.onnx.importer.RegionModels.graph;
import static dev.cmod.onnx.importer.RegionModels.i;
import static dev.cmod.onnx.importer.RegionModels.imported;
import static dev.cmod.onnx.importer.RegionModels.info;
import static dev.cmod.onnx.importer.RegionModels.ints;
import static dev.cmod.onnx.importer.RegionModels.node;
import static dev.cmod.onnx.importer.RegionModels.random;
import static dev.cmod.onnx.importer.RegionModels.s;
import static dev.cmod.onnx.importer.RegionModels.sameAsOriginal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.OnnxImporter;
import dev.cmod.onnx.OnnxRegionRunner;
import dev.cmod.onnx.importer.RegionModels.M;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Opaque regions of models newer than the emitted opset 17 ({@link OpsetDowngrade}): each opset-18
 * to 22 form, in a hand-built model where the importer carries it opaque (it reads the untyped
 * output of LpNormalization, which the importer does not raise, sits in an If body, or is an
 * operator the importer does not know), is imported, emitted at opset 17 and run on ONNX Runtime,
 * and must equal the original file on ONNX Runtime; the interpreter (which runs the region's own
 * opset-17 model on ONNX Runtime) too. What has no opset-17 form is refused, word for word.
 */
class OpsetDowngradeTest {
  private static final int F16 = TensorProto.DataType.FLOAT16_VALUE;
  private static final int I8 = TensorProto.DataType.INT8_VALUE;
  private static final int U8 = TensorProto.DataType.UINT8_VALUE;

  private static Map<String, Tensor> x(long... shape) {
    return feeds("x", random(7, shape));
  }

  @Test
  void reductionsTakeTheirConstantAxesAsTheAttribute() {
    for (int opset : new int[] {18, 20, 22}) {
      byte[] m =
          new M(opset)
              .in("x", F, 2, 3, 4)
              .out("mean", F, 2, 4)
              .out("max", F, 2, 3, 1)
              .out("l2", F, 1, 3, 1)
              .out("prod", F, 1, 1, 1)
              .out("min", F, 2, 3, 4)
              .out("ss", F, 3)
              .out("lse", F) // no listed axes and no noop flag: every axis
              .out("n_l1", F, 2, 3, 4)
              .out("n_l2", F, 2, 3, 4)
              .out("n_ss", F, 2, 3, 4)
              .out("n_ls", F, 2, 3, 4)
              .out("n_lse", F, 2, 3, 4)
              .initLongs("a02", new long[] {0, 2}, 2)
              .constLongs("a1", 1)
              .constLongs("none")
              .opaqueX()
              .node("ReduceMean", List.of("xn", "a1"), List.of("mean"), i("keepdims", 0))
              .constLongs("last", -1)
              .node("ReduceMax", List.of("xn", "last"), List.of("max"))
              .node("ReduceL2", List.of("xn", "a02"), List.of("l2"))
              .node("ReduceProd", List.of("xn"), List.of("prod"))
              .node("ReduceMin", List.of("xn"), List.of("min"), i("noop_with_empty_axes", 1))
              .node("ReduceSumSquare", List.of("xn", "a02"), List.of("ss"), i("keepdims", 0))
              .node(
                  "ReduceLogSumExp",
                  List.of("xn", "none"),
                  List.of("lse"),
                  i("keepdims", 0),
                  i("noop_with_empty_axes", 0))
              .node("ReduceL1", List.of("xn"), List.of("n_l1"), i("noop_with_empty_axes", 1))
              .node(
                  "ReduceL2", List.of("xn", "none"), List.of("n_l2"), i("noop_with_empty_axes", 1))
              .node("ReduceSumSquare", List.of("xn"), List.of("n_ss"), i("noop_with_empty_axes", 1))
              .node("Abs", List.of("xn"), List.of("xa"))
              .node("ReduceLogSum", List.of("xa"), List.of("n_ls"), i("noop_with_empty_axes", 1))
              .node(
                  "ReduceLogSumExp", List.of("xn"), List.of("n_lse"), i("noop_with_empty_axes", 1))
              .bytes();
      sameAsOriginal(m, x(2, 3, 4), 1e-6, 1e-6);
    }
  }

  /** ReduceMax and ReduceMin of booleans (opset 20) reduce their int32 cast. */
  @Test
  void booleanMaxAndMinReduceTheirIntegerCast() {
    byte[] m =
        new M(20)
            .in("x", F, 2, 3)
            .out("any", BOOL, 2, 1)
            .out("all", BOOL)
            .constLongs("ax", 1)
            .opaqueX()
            .node("Greater", List.of("xn", "zero"), List.of("pos"))
            .node("ReduceMax", List.of("pos", "ax"), List.of("any"))
            .node("ReduceMin", List.of("pos"), List.of("all"), i("keepdims", 0))
            .init("zero", new float[] {0})
            .bytes();
    sameAsOriginal(m, x(2, 3));
  }

  @Test
  void centerCropPadIsItsFunctionBody() {
    byte[] m =
        new M(18)
            .in("x", F, 3, 5, 4)
            .out("both", F, 2, 8, 4)
            .out("all", F, 4, 2, 5)
            .out("neg", F, 3, 3, 7)
            .constLongs("s1", 2, 8)
            .constLongs("s2", 4, 2, 5)
            .constLongs("s3", 3, 7)
            .node("CenterCropPad", List.of("x", "s1"), List.of("both"), ints("axes", 0, 1))
            .node("CenterCropPad", List.of("x", "s2"), List.of("all"))
            .node("CenterCropPad", List.of("x", "s3"), List.of("neg"), ints("axes", -2, -1))
            .bytes();
    sameAsOriginal(m, x(3, 5, 4));
  }

  @Test
  void splitIntoNumOutputsCutsTheSamePartsAtRunTime() {
    byte[] m =
        new M(18)
            .in("x", F, 2, 6, 5)
            .out("a", F, 2, 2, 5)
            .out("b", F, 2, 2, 5)
            .out("c", F, 2, 2, 5)
            .out("p", F, 2, 6, 2)
            .out("q", F, 2, 6, 2)
            .out("r", F, 2, 6, 1)
            .opaqueX()
            .node("Split", List.of("xn"), List.of("a", "b", "c"), i("axis", 1), i("num_outputs", 3))
            .node(
                "Split", List.of("xn"), List.of("p", "q", "r"), i("axis", -1), i("num_outputs", 3))
            .bytes();
    sameAsOriginal(m, x(2, 6, 5));
  }

  @Test
  void padAxesBecomeFullPads() {
    for (int opset : new int[] {18, 19, 21}) {
      byte[] m =
          new M(opset)
              .in("x", F, 2, 3)
              .out("y", F, 2, 6)
              .out("z", F, 4, 3)
              .out("w", F, 3, 4)
              .constLongs("pads_y", 1, 2)
              .constLongs("axes_y", -1)
              .constLongs("pads_z", 1, 1)
              .constLongs("axes_z", 0)
              .constLongs("pads_w", 1, 0, 0, 1)
              .constLongs("axes_w", 0, 1)
              .init("cv", new float[] {1.5f})
              .opaqueX()
              .node("Pad", List.of("xn", "pads_y", "cv", "axes_y"), List.of("y"))
              .node(
                  "Pad", List.of("xn", "pads_z", "", "axes_z"), List.of("z"), s("mode", "reflect"))
              .node("Pad", List.of("xn", "pads_w", "", "axes_w"), List.of("w"), s("mode", "edge"))
              .bytes();
      sameAsOriginal(m, x(2, 3));
    }
  }

  @Test
  void resizeWithDefaultsAndAxesIsResizeThirteen() {
    for (int opset : new int[] {18, 19}) {
      byte[] m =
          new M(opset)
              .in("x", F, 1, 1, 3, 4)
              .out("y", F, 1, 1, 6, 8)
              .out("z", F, 1, 1, 6, 6)
              .out("w", F, 1, 1, 3, 7)
              .init("scales", new float[] {1, 1, 2, 2}, 4)
              .init("scales2", new float[] {2, 1.5f}, 2)
              .initLongs("sizes", new long[] {7}, 1)
              .node(
                  "Resize",
                  List.of("x", "", "scales"),
                  List.of("y"),
                  s("mode", "linear"),
                  i("antialias", 0),
                  s("keep_aspect_ratio_policy", "stretch"))
              .node(
                  "Resize",
                  List.of("x", "", "scales2"),
                  List.of("z"),
                  s("mode", "cubic"),
                  ints("axes", 2, 3))
              .node(
                  "Resize",
                  List.of("x", "", "", "sizes"),
                  List.of("w"),
                  s("mode", "nearest"),
                  s("coordinate_transformation_mode", "asymmetric"),
                  ints("axes", -1))
              .bytes();
      sameAsOriginal(m, x(1, 1, 3, 4), 1e-5, 1e-6);
    }
  }

  @Test
  void poolsLoseTheirDefaultDilationsAndCeilMode() {
    byte[] m =
        new M(19)
            .in("x", F, 1, 2, 5, 5)
            .out("a", F, 1, 2, 4, 4)
            .out("l", F, 1, 2, 2, 2)
            .opaqueX()
            .node(
                "AveragePool",
                List.of("xn"),
                List.of("a"),
                ints("kernel_shape", 2, 2),
                ints("dilations", 1, 1))
            .node(
                "LpPool",
                List.of("xn"),
                List.of("l"),
                ints("kernel_shape", 2, 2),
                ints("strides", 2, 2),
                ints("dilations", 1, 1),
                i("ceil_mode", 0))
            .bytes();
    sameAsOriginal(m, x(1, 2, 5, 5), 1e-6, 1e-6);
  }

  @Test
  void castsLoseSaturateAndScattersKeepTheirReductions() {
    byte[] m =
        new M(19)
            .in("x", F, 2, 5)
            .in("idx", I64, 2, 2)
            .in("upd", F, 2, 2)
            .in("nd", I64, 1, 1)
            .in("ndu", F, 1, 5)
            .out("h", F16, 2, 5)
            .out("k", F16, 2, 5)
            .out("add", F, 2, 5)
            .out("mul", F, 2, 5)
            .opaqueX()
            .node("Cast", List.of("xn"), List.of("h"), i("to", F16), i("saturate", 1))
            .node("CastLike", List.of("xn", "h"), List.of("k"), i("saturate", 1))
            .node(
                "ScatterElements",
                List.of("xn", "idx", "upd"),
                List.of("add"),
                i("axis", 1),
                s("reduction", "add"))
            .node("ScatterND", List.of("xn", "nd", "ndu"), List.of("mul"), s("reduction", "mul"))
            .bytes();
    Tensor idx = Tensor.ofLongs(new long[] {2, 2}, new long[] {1, 1, 0, 4});
    Tensor nd = Tensor.ofLongs(new long[] {1, 1}, new long[] {1});
    sameAsOriginal(
        m,
        feeds(
            "x",
            random(1, 2, 5),
            "idx",
            idx,
            "upd",
            random(2, 2, 2),
            "nd",
            nd,
            "ndu",
            random(3, 1, 5)));
  }

  @Test
  void geluAndMishBecomeTheirFormulas() {
    byte[] m =
        new M(20)
            .in("x", F, 3, 7)
            .out("g", F, 3, 7)
            .out("t", F, 3, 7)
            .out("h", F, 3, 7)
            .node("Gelu", List.of("x"), List.of("g"))
            .node("Gelu", List.of("x"), List.of("t"), s("approximate", "tanh"))
            .node("Mish", List.of("x"), List.of("h"))
            .bytes();
    sameAsOriginal(m, feeds("x", scaled(random(5, 3, 7), 3)), 1e-5, 1e-6);
  }

  private static Tensor scaled(Tensor t, float k) {
    float[] v = t.floats();
    for (int j = 0; j < v.length; j++) {
      v[j] *= k;
    }
    return Tensor.ofFloats(t.shape(), v);
  }

  @Test
  void groupNormalizationIsItsFunctionBody() {
    for (int opset : new int[] {18, 21}) {
      int params = opset < 21 ? 2 : 4; // per group, then per channel
      float[] scale = {0.5f, 2f, -1f, 1.5f};
      float[] bias = {0.1f, -0.2f, 0.3f, 0f};
      byte[] m =
          new M(opset)
              .in("x", F, 2, 4, 3, 3)
              .out("y", F, 2, 4, 3, 3)
              .init("scale", java.util.Arrays.copyOf(scale, params), params)
              .init("bias", java.util.Arrays.copyOf(bias, params), params)
              .node(
                  "GroupNormalization",
                  List.of("x", "scale", "bias"),
                  List.of("y"),
                  i("num_groups", 2),
                  f("epsilon", 1e-3f))
              .bytes();
      sameAsOriginal(m, x(2, 4, 3, 3), 1e-5, 1e-6);
    }
  }

  @Test
  void dftTakesItsAxisAsTheAttribute() {
    byte[] m =
        new M(20)
            .in("x", F, 2, 8, 1)
            .out("y", F, 2, 8, 2)
            .out("z", F, 2, 5, 2)
            .initLongs("axis", new long[] {1})
            .node("DFT", List.of("x", "", "axis"), List.of("y"))
            .node("DFT", List.of("x"), List.of("z"), i("onesided", 1))
            .bytes();
    sameAsOriginal(m, x(2, 8, 1), 1e-5, 1e-5);
  }

  @Test
  void gridSampleGetsItsOldModeNames() {
    byte[] m =
        new M(20)
            .in("x", F, 1, 2, 4, 5)
            .in("grid", F, 1, 3, 3, 2)
            .out("l", F, 1, 2, 3, 3)
            .out("c", F, 1, 2, 3, 3)
            .out("n", F, 1, 2, 3, 3)
            .node("GridSample", List.of("x", "grid"), List.of("l"))
            .node("GridSample", List.of("x", "grid"), List.of("c"), s("mode", "cubic"))
            .node("GridSample", List.of("x", "grid"), List.of("n"), s("mode", "nearest"))
            .bytes();
    Tensor grid = scaled(random(3, 1, 3, 3, 2), 0.5f);
    sameAsOriginal(m, feeds("x", random(2, 1, 2, 4, 5), "grid", grid), 1e-5, 1e-6);
  }

  @Test
  void quantizeOutputTypeBecomesAZeroPoint() {
    byte[] m =
        new M(21)
            .in("x", F, 2, 3)
            .out("q", I8, 2, 3)
            .out("u", U8, 2, 3)
            .out("d", F, 2, 3)
            .init("scale", new float[] {0.02f})
            .init("scales", new float[] {0.02f, 0.05f, 0.1f}, 3)
            .opaqueX()
            .node(
                "QuantizeLinear",
                List.of("xn", "scales"),
                List.of("q"),
                i("output_dtype", I8),
                i("axis", 1),
                i("saturate", 1))
            .node(
                "QuantizeLinear",
                List.of("xn", "scale"),
                List.of("u"),
                i("output_dtype", U8),
                i("block_size", 0))
            .node("DequantizeLinear", List.of("q", "scales"), List.of("d"), i("axis", 1))
            .bytes();
    sameAsOriginal(m, x(2, 3));
  }

  @Test
  void optionalsOfPlainTensors() {
    byte[] m =
        new M(18)
            .in("x", F, 2, 3)
            .out("has", BOOL)
            .out("none", BOOL)
            .out("got", F, 2, 3)
            .node("OptionalHasElement", List.of("x"), List.of("has"))
            .node("OptionalHasElement", List.of(), List.of("none"))
            .node("OptionalGetElement", List.of("x"), List.of("got"))
            .bytes();
    sameAsOriginal(m, x(2, 3));
  }

  /** Subgraph bodies are rewritten: an If at opset 19 whose branches hold opset-18 forms. */
  @Test
  void subgraphBodiesAreRewrittenDown() {
    GraphProto then =
        GraphProto.newBuilder()
            .setName("then")
            .addNode(node("Constant", List.of(), List.of("ax"), axesValue(1)))
            .addNode(node("ReduceMean", List.of("x", "ax"), List.of("t")))
            .addOutput(info("t", F, 2, 1))
            .build();
    GraphProto otherwise =
        GraphProto.newBuilder()
            .setName("else")
            .addNode(
                node("Split", List.of("x"), List.of("e", "e2"), i("axis", 1), i("num_outputs", 2)))
            .addNode(node("ReduceMax", List.of("e", "outer_ax"), List.of("r")))
            .addOutput(info("r", F, 2, 1))
            .build();
    byte[] m =
        new M(19)
            .in("x", F, 2, 4)
            .in("c", BOOL)
            .out("y", F, 2, 1)
            .initLongs("outer_ax", new long[] {1}, 1)
            .node(
                "If",
                List.of("c"),
                List.of("y"),
                graph("then_branch", then),
                graph("else_branch", otherwise))
            .bytes();
    for (boolean c : new boolean[] {true, false}) {
      Tensor cond = Tensor.ofLongs(DType.BOOL, new long[0], new long[] {c ? 1 : 0});
      sameAsOriginal(m, feeds("x", random(4, 2, 4), "c", cond));
    }
  }

  private static ai.onnx.proto.OnnxMl.AttributeProto axesValue(long... v) {
    TensorProto.Builder t = TensorProto.newBuilder().setDataType(I64).addDims(v.length);
    for (long a : v) {
      t.addInt64Data(a);
    }
    return ai.onnx.proto.OnnxMl.AttributeProto.newBuilder()
        .setName("value")
        .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.TENSOR)
        .setT(t)
        .build();
  }

  /** A model's local function runs at the model's opset: its body is rewritten too. */
  @Test
  void localFunctionBodiesAreRewrittenDown() {
    FunctionProto fn =
        FunctionProto.newBuilder()
            .setName("MeanRows")
            .setDomain("custom.fn")
            .addInput("a")
            .addOutput("b")
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(18))
            .addNode(node("Constant", List.of(), List.of("ax"), axesValue(1)))
            .addNode(node("ReduceMean", List.of("a", "ax"), List.of("b")))
            .build();
    M m = new M(18).in("x", F, 2, 4).out("y", F, 2, 1).node("MeanRows", List.of("x"), List.of("y"));
    m.g.setNode(0, m.g.getNode(0).toBuilder().setDomain("custom.fn"));
    ModelProto p = RegionModels.parse(m.bytes());
    byte[] model =
        p.toBuilder()
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("custom.fn").setVersion(1))
            .addFunctions(fn)
            .build()
            .toByteArray();
    sameAsOriginal(model, x(2, 4));
  }

  /** Boolean ReduceMax and ReduceMin (opset 20) of raised values are raised on their int32 cast. */
  @Test
  void booleanReductionsOfRaisedValues() {
    byte[] m =
        new M(20)
            .in("x", F, 2, 3)
            .out("any", BOOL, 2, 1)
            .out("all", BOOL)
            .init("zero", new float[] {0})
            .constLongs("ax", 1)
            .node("Greater", List.of("x", "zero"), List.of("pos"))
            .node("ReduceMax", List.of("pos", "ax"), List.of("any"))
            .node("ReduceMin", List.of("pos"), List.of("all"), i("keepdims", 0))
            .bytes();
    Map<String, Tensor> feeds = x(2, 3);
    Map<String, Tensor> want = ImportSupport.runModel(m, feeds);
    Graph g = imported(m, feeds);
    assertTrue(g.nodes().stream().noneMatch(n -> n.op() == Op.ONNX_REGION));
    Map<String, Tensor> got = ImportSupport.runEmitted(g, feeds);
    Map<String, Tensor> interp = Interpreter.run(g, feeds, OnnxRegionRunner.CPU);
    for (String o : List.of("any", "all")) {
      assertTrue(ImportSupport.close(got.get(o), want.get(o), 0, 0, false), o);
      assertTrue(ImportSupport.close(interp.get(o), want.get(o), 0, 0, false), o);
    }
  }

  /** IsInf and IsNaN of float16 (IsInf-20) and bfloat16 (both 20) values. */
  @Test
  void isInfAndIsNaNOfHalfFloats() {
    for (int et : new int[] {F16, TensorProto.DataType.BFLOAT16_VALUE}) {
      byte[] m =
          new M(20)
              .in("x", F, 2, 3)
              .out("inf", BOOL, 2, 3)
              .out("nan", BOOL, 2, 3)
              .node("Cast", List.of("x"), List.of("q"), i("to", et))
              .node("IsInf", List.of("q"), List.of("inf"))
              .node("IsNaN", List.of("q"), List.of("nan"))
              .bytes();
      Map<String, Tensor> feeds =
          feeds(
              "x",
              Tensor.ofFloats(
                  new long[] {2, 3},
                  new float[] {
                    1, Float.POSITIVE_INFINITY, Float.NaN, -1, Float.NEGATIVE_INFINITY, 3
                  }));
      Map<String, Tensor> want = ImportSupport.runModel(m, feeds);
      Graph g = imported(m, feeds);
      Map<String, Tensor> got = ImportSupport.runEmitted(g, feeds);
      Map<String, Tensor> interp = Interpreter.run(g, feeds, OnnxRegionRunner.CPU);
      for (String o : List.of("inf", "nan")) {
        assertTrue(ImportSupport.close(got.get(o), want.get(o), 0, 0, false), o + " " + et);
        assertTrue(ImportSupport.close(interp.get(o), want.get(o), 0, 0, false), o + " " + et);
      }
    }
  }

  /** The raised tier reads the opset-18 forms itself: axes inputs, num_outputs. */
  @Test
  void raisedNewFormsStayRaised() {
    byte[] m =
        new M(18)
            .in("x", F, 2, 6)
            .out("mean", F, 2)
            .out("a", F, 2, 3)
            .out("b", F, 2, 3)
            .out("same", F, 2, 6)
            .constLongs("ax", -1)
            .node("ReduceMean", List.of("x", "ax"), List.of("mean"), i("keepdims", 0))
            .node("Split", List.of("x"), List.of("a", "b"), i("axis", 1), i("num_outputs", 2))
            .node("ReduceMax", List.of("x"), List.of("same"), i("noop_with_empty_axes", 1))
            .bytes();
    Map<String, Tensor> feeds = x(2, 6);
    Map<String, Tensor> want = ImportSupport.runModel(m, feeds);
    Graph g = imported(m, feeds);
    assertTrue(g.nodes().stream().noneMatch(n -> n.op() == Op.ONNX_REGION));
    Map<String, Tensor> got = ImportSupport.runEmitted(g, feeds);
    for (String o : List.of("mean", "a", "b", "same")) {
      assertTrue(ImportSupport.close(got.get(o), want.get(o), 1e-6, 1e-7, false), o);
    }
  }

  /**
   * Split into num_outputs over an axis of symbolic size: the last part may be smaller, which the
   * raised tier cannot say, so it is carried opaque and cut at run time; two sizes, one uneven.
   */
  @Test
  void symbolicSplitIntoNumOutputsIsCutAtRunTime() {
    M m =
        new M(18).node("Split", List.of("x"), List.of("a", "b"), i("axis", 1), i("num_outputs", 2));
    m.g.addInput(twoBy("x", "s")).addOutput(twoBy("a", "h1")).addOutput(twoBy("b", "h2"));
    byte[] model = m.bytes();
    Graph g = new Graph("t");
    Value x =
        g.addInput(
            "x", new TensorType(DType.F32, List.of(Dim.of(2), Dim.sym("s"))), RegionModels.LOC);
    List<Value> outs = OnnxImporter.load(model, null).apply(g, List.of(x), "m", RegionModels.LOC);
    g.setOutput("a", outs.get(0));
    g.setOutput("b", outs.get(1));
    assertTrue(g.nodes().stream().anyMatch(n -> n.op() == Op.ONNX_REGION));
    for (long len : new long[] {5, 6}) {
      Map<String, Tensor> feeds = feeds("x", random(len, 2, len));
      Map<String, Tensor> want = ImportSupport.runModel(model, feeds);
      Map<String, Tensor> got = ImportSupport.runEmitted(g, feeds);
      Map<String, Tensor> interp = Interpreter.run(g, feeds, OnnxRegionRunner.CPU);
      for (String o : List.of("a", "b")) {
        assertTrue(ImportSupport.close(got.get(o), want.get(o), 0, 0, false), o + " " + len);
        assertTrue(ImportSupport.close(interp.get(o), want.get(o), 0, 0, false), o + " " + len);
      }
    }
  }

  /** A float value of shape [2, {@code dim}], {@code dim} symbolic. */
  private static ValueInfoProto twoBy(String name, String dim) {
    ValueInfoProto.Builder v = info(name, F, 2, 1).toBuilder();
    v.getTypeBuilder()
        .getTensorTypeBuilder()
        .getShapeBuilder()
        .setDim(1, TensorShapeProto.Dimension.newBuilder().setDimParam(dim));
    return v.build();
  }

  /** A form the raised tier does not read (Pad's axes input) is carried opaque and downgraded. */
  @Test
  void raisedTierCarriesPadAxesOpaque() {
    byte[] m =
        new M(19)
            .in("x", F, 2, 3)
            .out("y", F, 2, 5)
            .constLongs("pads", 1, 1)
            .constLongs("axes", 1)
            .node("Pad", List.of("x", "pads", "", "axes"), List.of("y"))
            .bytes();
    sameAsOriginal(m, x(2, 3));
  }

  private static String refusal(String op, String node, int opset, String why) {
    return "ONNX operator '"
        + op
        + "' (node '"
        + node
        + "') at the model's opset "
        + opset
        + " is carried opaque (runs on ONNX Runtime) and must be rewritten for opset 17, which"
        + " cmod emits, but it "
        + why
        + ", which has no exact equivalent there; export the model at opset 17"
        + " (torch.onnx.export(..., opset_version=17)) or convert it (onnx.version_converter)"
        + " before importing";
  }

  private static void refused(byte[] m, Map<String, Tensor> feeds, String message) {
    ImportException e = assertThrows(ImportException.class, () -> imported(m, feeds));
    assertEquals(message, e.getMessage());
  }

  @Test
  void whatHasNoOpsetSeventeenFormIsRefusedByName() {
    byte[] bitwise =
        new M(18)
            .in("x", I64, 3)
            .out("y", I64, 3)
            .node("BitwiseAnd", List.of("x", "x"), List.of("y"))
            .bytes();
    refused(
        bitwise,
        feeds("x", Tensor.ofLongs(new long[] {3}, new long[] {1, 2, 3})),
        refusal("BitwiseAnd", "BitwiseAnd_y", 18, "is an operator added at opset 18"));
    byte[] wrap =
        new M(19)
            .in("x", F, 2, 3)
            .out("y", F, 2, 5)
            .constLongs("pads", 0, 1, 0, 1)
            .opaqueX()
            .node("Pad", List.of("xn", "pads"), List.of("y"), s("mode", "wrap"))
            .bytes();
    refused(wrap, x(2, 3), refusal("Pad", "Pad_y", 19, "pads in mode 'wrap' (added at opset 19)"));
    byte[] max =
        new M(18)
            .in("x", F, 2, 5)
            .in("idx", I64, 2, 2)
            .out("y", F, 2, 5)
            .node("ScatterElements", List.of("x", "idx", "x"), List.of("y"), s("reduction", "max"))
            .bytes();
    refused(
        max,
        feeds("x", random(1, 2, 5), "idx", Tensor.ofLongs(new long[] {2, 2}, new long[4])),
        refusal(
            "ScatterElements", "ScatterElements_y", 18, "reduces with 'max' (added at opset 18)"));
    byte[] antialias =
        new M(18)
            .in("x", F, 1, 1, 4, 4)
            .out("y", F, 1, 1, 2, 2)
            .init("scales", new float[] {1, 1, 0.5f, 0.5f}, 4)
            .node(
                "Resize",
                List.of("x", "", "scales"),
                List.of("y"),
                s("mode", "linear"),
                i("antialias", 1))
            .bytes();
    refused(
        antialias, x(1, 1, 4, 4), refusal("Resize", "Resize_y", 18, "resizes with antialias = 1"));
    byte[] runtimeAxes =
        new M(18)
            .in("x", F, 2, 3)
            .in("axes", I64, 1)
            .out("y", F, 1, 3)
            .opaqueX()
            .node("ReduceMean", List.of("xn", "axes"), List.of("y"))
            .bytes();
    refused(
        runtimeAxes,
        feeds("x", random(1, 2, 3), "axes", Tensor.ofLongs(new long[] {1}, new long[] {0})),
        refusal(
            "ReduceMean",
            "ReduceMean_y",
            18,
            "reduces over axes computed at run time (its axes input)"));
    byte[] dilated =
        new M(19)
            .in("x", F, 1, 1, 5, 5)
            .out("y", F, 1, 1, 3, 3)
            .opaqueX()
            .node(
                "AveragePool",
                List.of("xn"),
                List.of("y"),
                ints("kernel_shape", 2, 2),
                ints("dilations", 2, 2))
            .bytes();
    refused(
        dilated,
        x(1, 1, 5, 5),
        refusal("AveragePool", "AveragePool_y", 19, "has dilations [2, 2]"));
  }

  /**
   * A Loop at opset 21 whose body holds opset-22 forms of type-only changes: copied as they are.
   */
  @Test
  void typeOnlyChangesAreCopied() {
    GraphProto body =
        GraphProto.newBuilder()
            .setName("body")
            .addInput(info("it", I64))
            .addInput(info("cond", BOOL))
            .addInput(info("acc", F, 2, 3))
            .addNode(node("Softplus", List.of("acc"), List.of("sp")))
            .addNode(node("HardSwish", List.of("sp"), List.of("hs")))
            .addNode(node("Identity", List.of("cond"), List.of("cond_out")))
            .addOutput(info("cond_out", BOOL))
            .addOutput(info("hs", F, 2, 3))
            .build();
    byte[] m =
        new M(22)
            .in("x", F, 2, 3)
            .out("y", F, 2, 3)
            .initLongs("trips", new long[] {3})
            .node("Loop", List.of("trips", "", "x"), List.of("y"), graph("body", body))
            .bytes();
    sameAsOriginal(m, x(2, 3), 1e-6, 1e-6);
    byte[] thin =
        new M(22)
            .in("x", F, 1, 2, 4, 4)
            .out("y", F, 1, 2, 2, 2)
            .out("r", F, 1, 2, 2, 2)
            .opaqueX()
            .node(
                "MaxPool",
                List.of("xn"),
                List.of("y"),
                ints("kernel_shape", 2, 2),
                ints("strides", 2, 2))
            .node("Round", List.of("y"), List.of("r"))
            .bytes();
    sameAsOriginal(thin, x(1, 2, 4, 4));
  }
}
