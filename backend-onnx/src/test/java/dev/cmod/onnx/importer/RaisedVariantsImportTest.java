package dev.cmod.onnx.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.OnnxImporter;
import dev.cmod.onnx.OnnxRegionRunner;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The variants of ONNX operators raised into the IR beyond their plain forms (pooling in ceil_mode,
 * InstanceNormalization, LayerNormalization's statistics, Trilu...), each on a hand-built one-node
 * model: the import must hold no opaque region, and the interpreter and the emitted graph on ONNX
 * Runtime must both equal ONNX Runtime on the original node. A variant that is not raised is
 * checked to be carried opaque, with the same numbers.
 */
class RaisedVariantsImportTest {
  private static final SourceLoc LOC = new SourceLoc("t.cmod", 1, 1);
  private static final double TOL = 1e-5;

  /** One ONNX node and the data it runs on. */
  private static final class Case {
    final String op;
    final List<Tensor> inputs = new ArrayList<>();
    final List<TensorProto> inits = new ArrayList<>();
    final List<AttributeProto> attrs = new ArrayList<>();
    int outputs = 1;
    int opset = 17;
    long[] declared;

    Case(String op) {
      this.op = op;
    }

    Case in(Tensor t) {
      inputs.add(t);
      return this;
    }

    Case init(TensorProto t) {
      inits.add(t);
      return this;
    }

    Case attr(String name, long v) {
      attrs.add(
          AttributeProto.newBuilder()
              .setName(name)
              .setType(AttributeProto.AttributeType.INT)
              .setI(v)
              .build());
      return this;
    }

    Case attr(String name, float v) {
      attrs.add(
          AttributeProto.newBuilder()
              .setName(name)
              .setType(AttributeProto.AttributeType.FLOAT)
              .setF(v)
              .build());
      return this;
    }

    Case attr(String name, String v) {
      attrs.add(
          AttributeProto.newBuilder()
              .setName(name)
              .setType(AttributeProto.AttributeType.STRING)
              .setS(ByteString.copyFromUtf8(v))
              .build());
      return this;
    }

    Case ints(String name, long... v) {
      AttributeProto.Builder a =
          AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
      for (long x : v) {
        a.addInts(x);
      }
      attrs.add(a.build());
      return this;
    }

    /** Declares output 0 as f32 of {@code dims} (a node carried opaque needs its type). */
    Case declare(long... dims) {
      declared = dims;
      return this;
    }

    Case outputs(int n) {
      outputs = n;
      return this;
    }

    /** The attributes and initializers, for messages. */
    String describe() {
      StringBuilder sb = new StringBuilder();
      for (AttributeProto a : attrs) {
        sb.append(a.getName())
            .append('=')
            .append(a.getS().toStringUtf8())
            .append(a.getI())
            .append(' ');
      }
      for (TensorProto t : inits) {
        sb.append(t.getName())
            .append(t.getFloatDataList())
            .append(t.getInt64DataList())
            .append(' ');
      }
      return sb.toString().strip();
    }

    byte[] model() {
      GraphProto.Builder g = GraphProto.newBuilder().setName("g");
      NodeProto.Builder n = NodeProto.newBuilder().setOpType(op);
      for (int i = 0; i < inputs.size(); i++) {
        if (inputs.get(i) == null) {
          n.addInput(""); // an optional input left out
          continue;
        }
        g.addInput(info("x" + i, inputs.get(i).dtype().onnxCode, inputs.get(i).shape()));
        n.addInput("x" + i);
      }
      for (TensorProto t : inits) {
        if (!t.getName().isEmpty()) {
          g.addInitializer(t);
        }
        n.addInput(t.getName()); // unnamed: an optional input left out
      }
      for (int i = 0; i < outputs; i++) {
        n.addOutput("y" + i);
        g.addOutput(
            i == 0 && declared != null
                ? info("y0", 1, declared)
                : ValueInfoProto.newBuilder().setName("y" + i).build());
      }
      n.addAllAttribute(attrs);
      g.addNode(n);
      return ModelProto.newBuilder()
          .setIrVersion(8)
          .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
          .setGraph(g)
          .build()
          .toByteArray();
    }
  }

  private static ValueInfoProto info(String name, int elemType, long... dims) {
    TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(elemType);
    if (dims != null) {
      TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
      for (long d : dims) {
        s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
      }
      t.setShape(s);
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(TypeProto.newBuilder().setTensorType(t))
        .build();
  }

  static TensorProto longs(String name, long[] dims, long... v) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(7);
    for (long d : dims) {
      t.addDims(d);
    }
    for (long x : v) {
      t.addInt64Data(x);
    }
    return t.build();
  }

  static TensorProto floats(String name, long[] dims, float... v) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1);
    for (long d : dims) {
      t.addDims(d);
    }
    for (float x : v) {
      t.addFloatData(x);
    }
    return t.build();
  }

  /** Reproducible values in [-2, 2) with a few ties, to catch wrong selection of equal maxima. */
  static Tensor random(long seed, long... shape) {
    Random r = new Random(seed);
    float[] v = new float[(int) Tensor.numel(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.round(r.nextFloat() * 64 - 32) / 16f;
    }
    return Tensor.ofFloats(shape, v);
  }

  /** The imported graph of {@code c} applied to its inputs, outputs {@code out0...}. */
  private static Graph imported(Case c) {
    ImportedModule m = OnnxImporter.load(c.model(), null);
    Graph g = new Graph("t");
    List<Value> args = new ArrayList<>();
    for (int i = 0; i < c.inputs.size(); i++) {
      Tensor t = c.inputs.get(i);
      if (t != null) {
        args.add(g.addInput("in" + i, TensorType.of(t.dtype(), t.shape()), LOC));
      }
    }
    List<Value> outs = m.apply(g, args, "m", LOC);
    for (int i = 0; i < outs.size(); i++) {
      g.setOutput("out" + i, outs.get(i));
    }
    return g;
  }

  /**
   * Imports {@code c}, checks whether it is raised (no opaque region) as {@code raised} says, and
   * that the interpreter and the emitted graph equal ONNX Runtime on the original node; returns the
   * graph.
   */
  private static Graph check(Case c, boolean raised) {
    Map<String, Tensor> original = new LinkedHashMap<>();
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    for (int i = 0; i < c.inputs.size(); i++) {
      if (c.inputs.get(i) != null) {
        original.put("x" + i, c.inputs.get(i));
        feeds.put("in" + i, c.inputs.get(i));
      }
    }
    Map<String, Tensor> want = ImportSupport.runModel(c.model(), original);
    Graph g = imported(c);
    boolean opaque = g.nodes().stream().anyMatch(n -> n.op() == Op.ONNX_REGION);
    assertEquals(raised, !opaque, c.op + " raised: " + g.nodes());
    Map<String, Tensor> interp = Interpreter.run(g, feeds, OnnxRegionRunner.CPU);
    Map<String, Tensor> emitted = ImportSupport.runEmitted(g, feeds);
    for (int i = 0; i < c.outputs; i++) {
      Tensor w = want.get("y" + i);
      for (Map<String, Tensor> got : List.of(interp, emitted)) {
        Tensor h = got.get("out" + i);
        assertTrue(
            ImportSupport.close(h, w, TOL, TOL, true),
            c.op + " " + c.describe() + " output " + i + ": " + h + " vs ONNX Runtime " + w);
      }
    }
    return g;
  }

  private static List<Op> ops(Graph g) {
    return g.nodes().stream().map(Node::op).filter(o -> !o.isLeaf()).distinct().toList();
  }

  @Test
  void maxPoolInCeilModeGrowsTheEndPads() {
    // 6 - 3 = 3 is not a multiple of the stride 2: ceil mode adds a last window
    for (long ceil : new long[] {0, 1}) {
      Graph g =
          check(
              new Case("MaxPool")
                  .in(random(1, 1, 2, 6, 7))
                  .ints("kernel_shape", 3, 3)
                  .ints("strides", 2, 2)
                  .attr("ceil_mode", ceil),
              true);
      Node pool = g.nodes().stream().filter(n -> n.op() == Op.MAX_POOL2D).findFirst().get();
      assertEquals(ceil == 1 ? 3 : 2, pool.type().dim(2).value());
    }
    // with begin pads, and the averaging that does not count pads
    check(
        new Case("AveragePool")
            .in(random(2, 2, 1, 7, 5))
            .ints("kernel_shape", 3, 2)
            .ints("strides", 2, 2)
            .ints("pads", 1, 0, 0, 0)
            .attr("ceil_mode", 1L),
        true);
  }

  @Test
  void ceilModeVariantsThatAreNotExactStayOpaque() {
    // averaging that counts pads would count the grown pad too
    check(
        new Case("AveragePool")
            .in(random(3, 1, 1, 6, 6))
            .ints("kernel_shape", 3, 3)
            .ints("strides", 2, 2)
            .attr("count_include_pad", 1L)
            .attr("ceil_mode", 1L)
            .declare(1, 1, 3, 3),
        false);
  }

  @Test
  void oneDimensionalPoolingIsTwoDimensionalOverASingleRow() {
    Graph g =
        check(
            new Case("MaxPool")
                .in(random(4, 2, 3, 9))
                .ints("kernel_shape", 3)
                .ints("strides", 2)
                .ints("pads", 1, 1),
            true);
    assertEquals(List.of(Op.RESHAPE, Op.MAX_POOL2D), ops(g));
    check(new Case("AveragePool").in(random(5, 1, 2, 8)).ints("kernel_shape", 2), true);
  }

  @Test
  void instanceNormalizationIsALayerNormPerChannel() {
    Tensor x = random(6, 2, 3, 4, 5);
    Graph g =
        check(
            new Case("InstanceNormalization")
                .in(x)
                .init(floats("scale", new long[] {3}, 0.5f, -1f, 2f))
                .init(floats("bias", new long[] {3}, 0f, 1f, -3f))
                .attr("epsilon", 1e-3f),
            true);
    assertTrue(ops(g).contains(Op.LAYER_NORM), ops(g).toString());
  }

  @Test
  void layerNormalizationsMeanAndInverseDeviation() {
    for (long axis : new long[] {-1, 1}) {
      Graph g =
          check(
              new Case("LayerNormalization")
                  .in(random(7, 2, 3, 4))
                  .in(axis == 1 ? random(8, 3, 4) : random(8, 4))
                  .in(axis == 1 ? random(9, 3, 4) : random(9, 4))
                  .attr("axis", axis)
                  .outputs(3),
              true);
      long[] kept = axis == 1 ? new long[] {2, 1, 1} : new long[] {2, 3, 1};
      assertEquals(TensorType.of(DType.F32, kept), g.outputs().get("out2").type());
    }
  }

  @Test
  void triluKeepsATriangleOfEveryMatrix() {
    Tensor x = random(10, 2, 4, 5);
    for (long upper : new long[] {0, 1}) {
      for (long k : new long[] {-2, 0, 1, 7}) {
        Graph g =
            check(
                new Case("Trilu").in(x).init(longs("k", new long[0], k)).attr("upper", upper),
                true);
        assertEquals(List.of(Op.WHERE), ops(g));
      }
    }
    // k computed at run time: compared with a constant of column minus row
    for (long upper : new long[] {0, 1}) {
      Graph g =
          check(
              new Case("Trilu")
                  .in(x)
                  .in(Tensor.ofLongs(new long[0], new long[] {-1}))
                  .attr("upper", upper),
              true);
      assertEquals(List.of(upper == 1 ? Op.GREATER_EQUAL : Op.LESS_EQUAL, Op.WHERE), ops(g));
    }
    // an infinity outside the triangle must not leak into it (a mask product would give NaN)
    Tensor inf =
        Tensor.ofFloats(new long[] {2, 2}, new float[] {1, Float.POSITIVE_INFINITY, Float.NaN, 4});
    Map<String, Tensor> got =
        Interpreter.run(imported(new Case("Trilu").in(inf)), Map.of("in0", inf));
    assertFalse(Float.isNaN(got.get("out0").floats()[2]));
    check(new Case("Trilu").in(inf), true);
  }

  @Test
  void gatherAndScatterElementsAreIrOperators() {
    Tensor data = random(11, 3, 4);
    Tensor ids = Tensor.ofLongs(new long[] {2, 4}, new long[] {0, -1, 2, 1, 1, 0, -3, 2});
    Graph g = check(new Case("GatherElements").in(data).in(ids).attr("axis", 0L), true);
    assertEquals(List.of(Op.GATHER_ELEMENTS), ops(g));
    Tensor i32 = Tensor.ofLongs(DType.I32, new long[] {3, 2}, new long[] {3, 0, -4, 2, 1, 1});
    check(new Case("GatherElements").in(data).in(i32).attr("axis", -1L), true);
    Tensor up = random(12, 3, 2);
    for (String how : new String[] {"none", "add", "mul"}) {
      Tensor where =
          how.equals("none")
              ? Tensor.ofLongs(new long[] {3, 2}, new long[] {3, 0, -4, 2, 1, 0})
              : Tensor.ofLongs(new long[] {3, 2}, new long[] {1, 1, -1, 2, 0, 0});
      Graph s =
          check(
              new Case("ScatterElements")
                  .in(data)
                  .in(where)
                  .in(up)
                  .attr("axis", 1L)
                  .attr("reduction", how),
              true);
      assertEquals(List.of(Op.SCATTER_ELEMENTS), ops(s));
    }
    // Scatter, its name before opset 11
    Case old =
        new Case("Scatter")
            .in(data)
            .in(Tensor.ofLongs(new long[] {1, 4}, new long[] {2, 0, 1, 2}))
            .in(random(13, 1, 4));
    old.opset = 10;
    check(old, true);
  }

  @Test
  void einsumIsMatmulsTransposesAndSums() {
    Object[][] cases = {
      {"bij, bjk -> bik", new long[][] {{5, 2, 3}, {5, 3, 4}}},
      {"i,i", new long[][] {{5}, {5}}},
      {"ij->i", new long[][] {{3, 4}}},
      {"ij->ji", new long[][] {{3, 4}}},
      {"...ii ->...i", new long[][] {{3, 5, 5}}},
      {"ii", new long[][] {{4, 4}}},
      {"ij,jk", new long[][] {{2, 3}, {3, 4}}},
      {"bhqd,bhkd->bhqk", new long[][] {{2, 3, 4, 5}, {2, 3, 6, 5}}},
      {"abc,cd->dba", new long[][] {{2, 3, 4}, {4, 5}}},
      {"ij,jk,kl->il", new long[][] {{2, 3}, {3, 4}, {4, 2}}},
      {"ij,ij->ij", new long[][] {{2, 3}, {2, 3}}},
      {"i,j", new long[][] {{2}, {3}}},
      {"...j,j...->...", new long[][] {{2, 3}, {3, 2}}},
      {"ijk,i->j", new long[][] {{2, 3, 4}, {2}}},
    };
    long seed = 20;
    for (Object[] c : cases) {
      Case e = new Case("Einsum").attr("equation", (String) c[0]);
      for (long[] shape : (long[][]) c[1]) {
        e.in(random(seed++, shape));
      }
      Graph g = check(e, true);
      assertFalse(ops(g).contains(Op.ONNX_REGION), c[0] + ": " + ops(g));
    }
    // broadcasting a size-1 axis against another operand is carried opaque
    check(
        new Case("Einsum")
            .attr("equation", "ij,ij->ij")
            .in(random(40, 1, 3))
            .in(random(41, 2, 3))
            .declare(2, 3),
        false);
  }

  /** An optional input left out. */
  private static final TensorProto ABSENT = TensorProto.getDefaultInstance();

  @Test
  void resizeWithConstantScalesIsTakesAndWeightedSums() {
    Tensor x = random(50, 1, 2, 4, 5);
    String[] coords = {
      "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"
    };
    String[] nearest = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    float[][] scales = {{1, 1, 2, 3}, {1, 1, 0.5f, 0.6f}, {1, 1, 1.7f, 1}, {1, 1, 3, 2}};
    for (float[] sc : scales) {
      for (String coord : coords) {
        for (String nm : nearest) {
          check(
              new Case("Resize")
                  .in(x)
                  .init(ABSENT)
                  .init(floats("scales", new long[] {4}, sc))
                  .attr("coordinate_transformation_mode", coord)
                  .attr("nearest_mode", nm),
              true);
        }
        for (String mode : new String[] {"linear", "cubic"}) {
          check(
              new Case("Resize")
                  .in(x)
                  .init(ABSENT)
                  .init(floats("scales", new long[] {4}, sc))
                  .attr("coordinate_transformation_mode", coord)
                  .attr("mode", mode),
              true);
        }
      }
    }
    // cubic with its other coefficient and the taps outside excluded; sizes instead of scales
    check(
        new Case("Resize")
            .in(x)
            .init(ABSENT)
            .init(ABSENT)
            .init(longs("sizes", new long[] {4}, 1, 2, 7, 3))
            .attr("mode", "cubic")
            .attr("cubic_coeff_a", -0.5f)
            .attr("exclude_outside", 1L),
        true);
    // an integer nearest upsampling (PyTorch's export) is a broadcast
    Graph g =
        check(
            new Case("Resize")
                .in(x)
                .init(ABSENT)
                .init(floats("scales", new long[] {4}, 1, 1, 2, 2))
                .attr("coordinate_transformation_mode", "asymmetric")
                .attr("nearest_mode", "floor"),
            true);
    assertEquals(List.of(Op.RESHAPE, Op.BROADCAST), ops(g));
  }

  @Test
  void convTransposeIsAnIrOperatorWithItsPadsResolved() {
    Tensor x = random(60, 2, 4, 3, 5);
    Tensor w = random(61, 4, 3, 3, 2);
    Tensor b = random(62, 6);
    Case[] cases = {
      new Case("ConvTranspose").in(x).in(w).in(b).ints("strides", 2, 1).attr("group", 2L),
      new Case("ConvTranspose")
          .in(x)
          .in(random(63, 4, 2, 3, 3))
          .ints("strides", 3, 2)
          .ints("pads", 1, 0, 2, 1)
          .ints("dilations", 1, 2)
          .ints("output_padding", 2, 1),
      new Case("ConvTranspose")
          .in(x)
          .in(random(64, 4, 2, 3, 3))
          .ints("strides", 2, 2)
          .ints("output_shape", 8, 10),
      new Case("ConvTranspose")
          .in(x)
          .in(random(65, 4, 2, 3, 3))
          .ints("strides", 2, 2)
          .attr("auto_pad", "SAME_UPPER"),
      new Case("ConvTranspose")
          .in(x)
          .in(random(66, 4, 2, 3, 3))
          .ints("strides", 2, 2)
          .attr("auto_pad", "SAME_LOWER"),
      new Case("ConvTranspose").in(random(67, 1, 3, 7)).in(random(68, 3, 2, 3)).ints("strides", 2),
      new Case("ConvTranspose").in(random(69, 1, 2, 3, 4, 2)).in(random(70, 2, 3, 2, 2, 3)),
    };
    for (Case c : cases) {
      Graph g = check(c, true);
      assertEquals(List.of(Op.CONV_TRANSPOSE), ops(g));
    }
  }

  @Test
  void smallOperatorsComposedOfIrOperators() {
    Tensor x = random(80, 2, 8, 3, 4);
    check(new Case("CastLike").in(x).in(Tensor.ofLongs(new long[] {1}, new long[] {0})), true);
    check(new Case("Dropout").in(x).outputs(2), true);
    check(
        new Case("Dropout")
            .in(x)
            .init(floats("ratio", new long[0], 0f))
            .init(
                TensorProto.newBuilder().setName("training").setDataType(9).addInt32Data(1).build())
            .outputs(2),
        true);
    check(new Case("Shrink").in(x).attr("lambd", 0.6f).attr("bias", 0.25f), true);
    check(new Case("Hardmax").in(x).attr("axis", 1L), true);
    Case old = new Case("Hardmax").in(x).attr("axis", 2L);
    old.opset = 11;
    check(old, true);
    check(new Case("MeanVarianceNormalization").in(x), true);
    check(new Case("MeanVarianceNormalization").in(x).ints("axes", 1, -1), true);
    for (long size : new long[] {1, 3, 5}) {
      check(
          new Case("LRN")
              .in(x)
              .attr("size", size)
              .attr("alpha", 0.01f)
              .attr("beta", 0.6f)
              .attr("bias", 2f),
          true);
    }
    check(new Case("DepthToSpace").in(x).attr("blocksize", 2L), true);
    check(new Case("DepthToSpace").in(x).attr("blocksize", 2L).attr("mode", "CRD"), true);
    check(new Case("SpaceToDepth").in(random(81, 1, 3, 4, 6)).attr("blocksize", 2L), true);
    check(new Case("EyeLike").in(random(82, 3, 5)).attr("k", 1L), true);
    check(new Case("EyeLike").in(random(83, 4, 3)).attr("k", -2L).attr("dtype", 7L), true);
  }

  @Test
  void classificationLossesArePickedWeightedAndReduced() {
    Tensor scores = random(90, 3, 5, 2);
    Tensor target = Tensor.ofLongs(new long[] {3, 2}, new long[] {0, 4, 2, -1, 4, 1});
    Tensor weight = Tensor.ofFloats(new long[] {5}, new float[] {0.5f, 1, 2, 0.25f, 3});
    for (String reduction : new String[] {"none", "sum", "mean"}) {
      check(
          new Case("NegativeLogLikelihoodLoss")
              .in(scores)
              .in(target)
              .in(weight)
              .attr("reduction", reduction)
              .attr("ignore_index", -1L),
          true);
      check(
          new Case("SoftmaxCrossEntropyLoss")
              .in(scores)
              .in(target)
              .attr("reduction", reduction)
              .attr("ignore_index", -1L)
              .outputs(2),
          true);
    }
    Tensor plain = Tensor.ofLongs(new long[] {3, 2}, new long[] {0, 4, 2, 3, 4, 1});
    check(new Case("NegativeLogLikelihoodLoss").in(scores).in(plain), true);
    check(new Case("SoftmaxCrossEntropyLoss").in(scores).in(plain).in(weight), true);
  }

  @Test
  void recurrentLayersAreUnrolled() {
    long seq = 4;
    long batch = 3;
    long in = 5;
    long h = 2;
    for (String direction : new String[] {"forward", "reverse", "bidirectional"}) {
      long d = direction.equals("bidirectional") ? 2 : 1;
      Tensor x = random(100, seq, batch, in);
      check(
          new Case("LSTM")
              .in(x)
              .in(random(101, d, 4 * h, in))
              .in(random(102, d, 4 * h, h))
              .in(random(103, d, 8 * h))
              .in(null)
              .in(random(104, d, batch, h))
              .in(random(105, d, batch, h))
              .in(random(106, d, 3 * h))
              .attr("hidden_size", h)
              .attr("direction", direction)
              .outputs(3),
          true);
      for (long lbr : new long[] {0, 1}) {
        check(
            new Case("GRU")
                .in(x)
                .in(random(107, d, 3 * h, in))
                .in(random(108, d, 3 * h, h))
                .in(random(109, d, 6 * h))
                .attr("hidden_size", h)
                .attr("direction", direction)
                .attr("linear_before_reset", lbr)
                .outputs(2),
            true);
      }
      check(
          new Case("RNN")
              .in(x)
              .in(random(110, d, h, in))
              .in(random(111, d, h, h))
              .attr("hidden_size", h)
              .attr("direction", direction)
              .outputs(2),
          true);
    }
  }

  @Test
  void upsampleAndResizeTenReadTheirOldModes() {
    Tensor x = random(120, 1, 2, 3, 4);
    for (String mode : new String[] {"nearest", "linear"}) {
      Case nine =
          new Case("Upsample")
              .in(x)
              .init(floats("scales", new long[] {4}, 1, 1, 2, 1.5f))
              .attr("mode", mode);
      nine.opset = 9;
      check(nine, true);
      Case ten =
          new Case("Resize")
              .in(x)
              .init(floats("scales", new long[] {4}, 1, 1, 0.7f, 2.5f))
              .attr("mode", mode);
      ten.opset = 10;
      check(ten, true);
    }
    Case seven = new Case("Upsample").in(x);
    seven.attrs.add(
        AttributeProto.newBuilder()
            .setName("scales")
            .setType(AttributeProto.AttributeType.FLOATS)
            .addAllFloats(List.of(1f, 1f, 3f, 2f))
            .build());
    seven.opset = 7;
    check(seven, true);
  }

  @Test
  void gatherAndScatterNdGoThroughTheMergedIndexedAxes() {
    Tensor data = random(130, 3, 4, 2);
    Tensor pairs = Tensor.ofLongs(new long[] {2, 2, 2}, new long[] {0, 1, 2, -1, -3, 0, 1, 3});
    check(new Case("GatherND").in(data).in(pairs), true);
    Tensor one = Tensor.ofLongs(new long[] {2, 1}, new long[] {2, -2});
    check(new Case("GatherND").in(data).in(one), true);
    Tensor all = Tensor.ofLongs(new long[] {3}, new long[] {1, 2, 0});
    check(new Case("GatherND").in(data).in(all), true);
    for (String how : new String[] {"none", "add", "mul"}) {
      Tensor at =
          how.equals("none")
              ? Tensor.ofLongs(new long[] {3, 2}, new long[] {0, 1, 2, -1, 1, 0})
              : Tensor.ofLongs(new long[] {3, 2}, new long[] {0, 1, 0, 1, 2, 3});
      check(
          new Case("ScatterND").in(data).in(at).in(random(131, 3, 2)).attr("reduction", how), true);
    }
  }

  @Test
  void reverseSequenceGathersEachSequenceBackwards() {
    Tensor lens = Tensor.ofLongs(new long[] {3}, new long[] {4, 1, 2});
    check(new Case("ReverseSequence").in(random(140, 4, 3, 2)).in(lens), true);
    check(
        new Case("ReverseSequence")
            .in(random(141, 3, 4))
            .in(lens)
            .attr("time_axis", 1L)
            .attr("batch_axis", 0L),
        true);
  }

  @Test
  void sequenceLengthsFreezeTheStatesOfEndedSequences() {
    Tensor x = random(150, 4, 3, 5);
    Tensor lens = Tensor.ofLongs(DType.I32, new long[] {3}, new long[] {3, 0, 4});
    check(
        new Case("LSTM")
            .in(x)
            .in(random(151, 1, 8, 5))
            .in(random(152, 1, 8, 2))
            .in(random(153, 1, 16))
            .in(lens)
            .in(random(154, 1, 3, 2))
            .in(random(155, 1, 3, 2))
            .attr("hidden_size", 2L)
            .outputs(3),
        true);
    check(
        new Case("GRU")
            .in(x)
            .in(random(156, 1, 6, 5))
            .in(random(157, 1, 6, 2))
            .in(null)
            .in(lens)
            .in(random(158, 1, 3, 2))
            .attr("hidden_size", 2L)
            .outputs(2),
        true);
    check(
        new Case("RNN")
            .in(x)
            .in(random(159, 1, 2, 5))
            .in(random(160, 1, 2, 2))
            .in(null)
            .in(lens)
            .attr("hidden_size", 2L)
            .outputs(2),
        true);
  }

  @Test
  void threeDimensionalPoolingIsTwoSeparablePoolings() {
    Tensor x = random(170, 1, 2, 5, 6, 7);
    for (String op : new String[] {"MaxPool", "AveragePool"}) {
      check(new Case(op).in(x).ints("kernel_shape", 2, 2, 2), true);
      check(
          new Case(op)
              .in(x)
              .ints("kernel_shape", 3, 2, 3)
              .ints("strides", 2, 1, 2)
              .ints("pads", 1, 0, 1, 1, 1, 0)
              .attr("ceil_mode", 1L),
          true);
    }
    check(
        new Case("AveragePool")
            .in(x)
            .ints("kernel_shape", 3, 3, 2)
            .ints("pads", 1, 1, 0, 1, 0, 1)
            .attr("count_include_pad", 1L),
        true);
  }

  @Test
  void edgeAndReflectPadsAreTakes() {
    Tensor x = random(180, 1, 2, 4, 5);
    for (String mode : new String[] {"edge", "reflect"}) {
      Graph g =
          check(
              new Case("Pad")
                  .in(x)
                  .init(longs("pads", new long[] {8}, 0, 0, 2, 3, 0, 0, 1, 4))
                  .attr("mode", mode),
              true);
      assertEquals(List.of(Op.TRANSPOSE, Op.TAKE), ops(g));
    }
  }

  /** PyTorch's interpolate(size=...) with a symbolic batch: the sizes are read through Shape. */
  @Test
  void resizeToSizesReadThroughShapeKeepsTheSymbolicBatch() {
    TensorShapeProto.Builder xs = TensorShapeProto.newBuilder();
    xs.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
    for (long d : new long[] {2, 4, 5}) {
      xs.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    ValueInfoProto x =
        ValueInfoProto.newBuilder()
            .setName("x")
            .setType(
                TypeProto.newBuilder()
                    .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(xs)))
            .build();
    GraphProto g =
        GraphProto.newBuilder()
            .setName("g")
            .addInput(x)
            .addOutput(ValueInfoProto.newBuilder().setName("y"))
            .addInitializer(longs("start", new long[] {1}, 0))
            .addInitializer(longs("end", new long[] {1}, 2))
            .addInitializer(longs("hw", new long[] {2}, 8, 10))
            .addNode(NodeProto.newBuilder().setOpType("Shape").addInput("x").addOutput("s"))
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Slice")
                    .addInput("s")
                    .addInput("start")
                    .addInput("end")
                    .addOutput("nc"))
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Concat")
                    .addInput("nc")
                    .addInput("hw")
                    .addOutput("sizes")
                    .addAttribute(
                        AttributeProto.newBuilder()
                            .setName("axis")
                            .setType(AttributeProto.AttributeType.INT)
                            .setI(0)))
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Resize")
                    .addInput("x")
                    .addInput("")
                    .addInput("")
                    .addInput("sizes")
                    .addOutput("y")
                    .addAttribute(
                        AttributeProto.newBuilder()
                            .setName("mode")
                            .setType(AttributeProto.AttributeType.STRING)
                            .setS(ByteString.copyFromUtf8("linear"))))
            .build();
    byte[] bytes =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
            .setGraph(g)
            .build()
            .toByteArray();
    ImportedModule m = OnnxImporter.load(bytes, null);
    Graph graph = new Graph("t");
    Value in =
        graph.addInput(
            "in",
            new TensorType(
                DType.F32,
                List.of(
                    dev.cmod.ir.type.Dim.sym("N"),
                    dev.cmod.ir.type.Dim.of(2),
                    dev.cmod.ir.type.Dim.of(4),
                    dev.cmod.ir.type.Dim.of(5))),
            LOC);
    graph.setOutput("out", m.apply(graph, List.of(in), "m", LOC).get(0));
    assertFalse(
        graph.nodes().stream().anyMatch(n -> n.op() == Op.ONNX_REGION), ops(graph).toString());
    Tensor data = random(190, 3, 2, 4, 5);
    Tensor want = ImportSupport.runModel(bytes, Map.of("x", data)).get("y");
    for (Map<String, Tensor> got :
        List.of(
            Interpreter.run(graph, Map.of("in", data)),
            ImportSupport.runEmitted(graph, Map.of("in", data)))) {
      assertTrue(ImportSupport.close(got.get("out"), want, TOL, TOL, false), got + " vs " + want);
    }
  }

  /** An integer nearest upsampling of symbolic sizes (a detector's FPN at any image size). */
  @Test
  void integerNearestUpsamplingOfSymbolicSizesIsABroadcast() {
    String[][] modes = {
      {"asymmetric", "floor"},
      {"half_pixel", "round_prefer_floor"},
      {"asymmetric", "round_prefer_floor"}
    };
    for (String[] mc : modes) {
      byte[] bytes =
          new Case("Resize")
              .in(random(200, 1, 2, 3, 4))
              .init(ABSENT)
              .init(floats("scales", new long[] {4}, 1, 1, 2, 2))
              .attr("coordinate_transformation_mode", mc[0])
              .attr("nearest_mode", mc[1])
              .model();
      ModelProto.Builder mb = parse(bytes).toBuilder();
      TensorShapeProto.Builder declared =
          mb.getGraphBuilder()
              .getInputBuilder(0)
              .getTypeBuilder()
              .getTensorTypeBuilder()
              .getShapeBuilder();
      declared.getDimBuilder(0).setDimParam("N");
      declared.getDimBuilder(2).setDimParam("H");
      declared.getDimBuilder(3).setDimParam("W");
      ImportedModule m = OnnxImporter.load(mb.build().toByteArray(), null);
      Graph graph = new Graph("t");
      dev.cmod.ir.type.Dim n = dev.cmod.ir.type.Dim.sym("N");
      dev.cmod.ir.type.Dim h = dev.cmod.ir.type.Dim.sym("H");
      dev.cmod.ir.type.Dim w = dev.cmod.ir.type.Dim.sym("W");
      Value in =
          graph.addInput(
              "in", new TensorType(DType.F32, List.of(n, dev.cmod.ir.type.Dim.of(2), h, w)), LOC);
      graph.setOutput("out", m.apply(graph, List.of(in), "m", LOC).get(0));
      assertEquals(List.of(Op.RESHAPE, Op.BROADCAST), ops(graph));
      for (long[] shape : new long[][] {{1, 2, 3, 4}, {2, 2, 5, 3}}) {
        Tensor data = random(201, shape);
        // the oracle: the same node over inputs of this size
        byte[] sized =
            new Case("Resize")
                .in(data)
                .init(ABSENT)
                .init(floats("scales", new long[] {4}, 1, 1, 2, 2))
                .attr("coordinate_transformation_mode", mc[0])
                .attr("nearest_mode", mc[1])
                .model();
        Tensor want = ImportSupport.runModel(sized, Map.of("x0", data)).get("y0");
        for (Map<String, Tensor> got :
            List.of(
                Interpreter.run(graph, Map.of("in", data)),
                ImportSupport.runEmitted(graph, Map.of("in", data)))) {
          assertTrue(
              ImportSupport.close(got.get("out"), want, TOL, TOL, false), mc[0] + " " + mc[1]);
        }
      }
    }
  }

  private static ModelProto parse(byte[] bytes) {
    try {
      return ModelProto.parseFrom(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
