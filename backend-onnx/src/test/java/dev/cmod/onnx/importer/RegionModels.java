package dev.cmod.onnx.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
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
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.EmitOptions;
import dev.cmod.onnx.OnnxEmitter;
import dev.cmod.onnx.OnnxImporter;
import dev.cmod.onnx.OnnxRegionRunner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Hand-built ONNX models at one opset, for the tests of opaque regions rewritten to the emitted
 * opset ({@link OpsetUpgradeTest}, {@link OpsetDowngradeTest}), and the check that an imported
 * model computes on ONNX Runtime and on the interpreter what the original file computes on ONNX
 * Runtime.
 */
final class RegionModels {
  private RegionModels() {}

  static final SourceLoc LOC = new SourceLoc("t.cmod", 1, 1);
  static final int F = TensorProto.DataType.FLOAT_VALUE;
  static final int I64 = TensorProto.DataType.INT64_VALUE;
  static final int BOOL = TensorProto.DataType.BOOL_VALUE;

  /** The oldest ir_version that allows {@code opset}. */
  static int irVersion(int opset) {
    return opset < 9 ? 3 : opset < 18 ? 6 : opset < 19 ? 8 : opset < 21 ? 9 : 10;
  }

  /** A hand-built model at one opset. */
  static final class M {
    final int opset;
    final GraphProto.Builder g = GraphProto.newBuilder().setName("g");

    M(int opset) {
      this.opset = opset;
    }

    M in(String name, int et, long... dims) {
      g.addInput(info(name, et, dims));
      return this;
    }

    M out(String name, int et, long... dims) {
      g.addOutput(info(name, et, dims));
      return this;
    }

    M node(String op, List<String> in, List<String> out, AttributeProto... attrs) {
      g.addNode(RegionModels.node(op, in, out, attrs));
      return this;
    }

    /** x normalized by an operator the importer does not raise: an untyped value named xn. */
    M opaqueX() {
      return node("LpNormalization", List.of("x"), List.of("xn"), i("axis", -1));
    }

    M init(String name, float[] v, long... dims) {
      TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(F);
      for (long d : dims) {
        t.addDims(d);
      }
      for (float f : v) {
        t.addFloatData(f);
      }
      g.addInitializer(t);
      return this;
    }

    /** An int64 initializer; a scalar when {@code dims} is empty. */
    M initLongs(String name, long[] v, long... dims) {
      TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(I64);
      for (long d : dims) {
        t.addDims(d);
      }
      for (long x : v) {
        t.addInt64Data(x);
      }
      g.addInitializer(t);
      return this;
    }

    /** A Constant node making the int64 vector {@code v} as value {@code out}. */
    M constLongs(String out, long... v) {
      TensorProto.Builder t = TensorProto.newBuilder().setDataType(I64).addDims(v.length);
      for (long x : v) {
        t.addInt64Data(x);
      }
      AttributeProto value =
          AttributeProto.newBuilder()
              .setName("value")
              .setType(AttributeType.TENSOR)
              .setT(t)
              .build();
      return node("Constant", List.of(), List.of(out), value);
    }

    byte[] bytes() {
      return ModelProto.newBuilder()
          .setIrVersion(irVersion(opset))
          .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
          .setGraph(g)
          .build()
          .toByteArray();
    }
  }

  static NodeProto node(String op, List<String> in, List<String> out, AttributeProto... attrs) {
    NodeProto.Builder b =
        NodeProto.newBuilder()
            .setOpType(op)
            .setName(op + "_" + out.get(0))
            .addAllInput(in)
            .addAllOutput(out);
    for (AttributeProto a : attrs) {
      b.addAttribute(a);
    }
    return b.build();
  }

  static ValueInfoProto info(String name, int et, long... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(et).setShape(s)))
        .build();
  }

  static AttributeProto i(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(v).build();
  }

  static AttributeProto ints(String name, long... v) {
    AttributeProto.Builder b =
        AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
    for (long x : v) {
      b.addInts(x);
    }
    return b.build();
  }

  static AttributeProto f(String name, float v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(v).build();
  }

  static AttributeProto floats(String name, float... v) {
    AttributeProto.Builder b =
        AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOATS);
    for (float x : v) {
      b.addFloats(x);
    }
    return b.build();
  }

  static AttributeProto s(String name, String v) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeType.STRING)
        .setS(ByteString.copyFromUtf8(v))
        .build();
  }

  static AttributeProto graph(String name, GraphProto g) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeType.GRAPH).setG(g).build();
  }

  static Tensor random(long seed, long... shape) {
    Random r = new Random(seed);
    float[] v = new float[Math.toIntExact(Tensor.numel(shape))];
    for (int k = 0; k < v.length; k++) {
      v[k] = (float) r.nextGaussian();
    }
    return Tensor.ofFloats(shape, v);
  }

  static Map<String, Tensor> feeds(Object... nameAndTensor) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (int k = 0; k < nameAndTensor.length; k += 2) {
      m.put((String) nameAndTensor[k], (Tensor) nameAndTensor[k + 1]);
    }
    return m;
  }

  /** The model imported into a graph with the same input and output names. */
  static Graph imported(byte[] model, Map<String, Tensor> feeds) {
    ImportedModule m = OnnxImporter.load(model, Path.of("."));
    Graph g = new Graph("t");
    List<Value> args = new ArrayList<>();
    for (String name : m.inputNames()) {
      Tensor t = feeds.get(name);
      args.add(g.addInput(name, TensorType.of(t.dtype(), t.shape()), LOC));
    }
    List<Value> outs = m.apply(g, args, "m", LOC);
    ModelProto proto = parse(model);
    for (int k = 0; k < outs.size(); k++) {
      g.setOutput(proto.getGraph().getOutput(k).getName(), outs.get(k));
    }
    return g;
  }

  static ModelProto parse(byte[] model) {
    try {
      return ModelProto.parseFrom(model);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Imports {@code model} (which must hold an opaque region), emits it at opset 17, and checks that
   * ONNX Runtime and the interpreter compute what ONNX Runtime computes on the original file.
   */
  static void sameAsOriginal(byte[] model, Map<String, Tensor> feeds) {
    sameAsOriginal(model, feeds, 1e-6, 1e-7);
  }

  /** {@link #sameAsOriginal(byte[], Map)} within {@code rtol} and {@code atol}. */
  static void sameAsOriginal(byte[] model, Map<String, Tensor> feeds, double rtol, double atol) {
    Map<String, Tensor> want = ImportSupport.runModel(model, feeds);
    Graph g = imported(model, feeds);
    assertTrue(
        g.nodes().stream().anyMatch(n -> n.op() == Op.ONNX_REGION), "the model has no region");
    byte[] emitted = OnnxEmitter.emit(g, EmitOptions.defaults());
    assertEquals(17, parse(emitted).getOpsetImport(0).getVersion());
    Map<String, Tensor> got = ImportSupport.runModel(emitted, feeds);
    Map<String, Tensor> interp = Interpreter.run(g, feeds, OnnxRegionRunner.CPU);
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      for (Map<String, Tensor> side : List.of(got, interp)) {
        Tensor h = side.get(e.getKey());
        assertTrue(
            ImportSupport.close(h, e.getValue(), rtol, atol, true),
            e.getKey() + ": got " + h + ", want " + e.getValue());
      }
    }
  }
}
