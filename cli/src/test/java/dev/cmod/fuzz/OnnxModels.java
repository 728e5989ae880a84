package dev.cmod.fuzz;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.SparseTensorProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Small hand-built ONNX models (y = x + w and a few others) for the reliability and findings tests.
 */
final class OnnxModels {
  static final int FLOAT = 1;
  static final int INT64 = 7;
  static final int BOOL = 9;

  private OnnxModels() {}

  static TensorProto external(String name, String location) {
    return external(name, location, "0", "16", 4);
  }

  /**
   * An f32 tensor {@code [dims]} whose data is in {@code location} at {@code offset}, {@code
   * length} bytes (null: no key).
   */
  static TensorProto external(
      String name, String location, String offset, String length, long... dims) {
    TensorProto.Builder t =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(FLOAT)
            .setDataLocation(TensorProto.DataLocation.EXTERNAL);
    for (long d : dims) {
      t.addDims(d);
    }
    if (location != null) {
      t.addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location));
    }
    if (offset != null) {
      t.addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(offset));
    }
    if (length != null) {
      t.addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(length));
    }
    return t.build();
  }

  static byte[] addModel(TensorProto init, SparseTensorProto sparse) {
    return addModel(init, sparse, 17);
  }

  /**
   * y = x + w, x and y f32[w's dims] (f32[4] when w has none), default-domain opset {@code opset}.
   */
  static byte[] addModel(TensorProto init, SparseTensorProto sparse, int opset) {
    long[] dims =
        init != null && init.getDimsCount() > 0
            ? init.getDimsList().stream().mapToLong(Long::longValue).toArray()
            : new long[] {4};
    GraphProto.Builder g =
        GraphProto.newBuilder()
            .setName("g")
            .addInput(value("x", FLOAT, box(dims)))
            .addOutput(value("y", FLOAT, box(dims)))
            .addNode(node("Add", List.of("x", "w"), List.of("y")));
    if (init != null) {
      g.addInitializer(init);
    }
    if (sparse != null) {
      g.addSparseInitializer(sparse);
    }
    return model(g.build(), opset);
  }

  private static Object[] box(long[] dims) {
    Object[] o = new Object[dims.length];
    for (int i = 0; i < dims.length; i++) {
      o[i] = dims[i];
    }
    return o;
  }

  /**
   * A tensor value: each dim a Long/Integer (fixed) or a String (symbolic); no dims at all for a
   * scalar.
   */
  static ValueInfoProto value(String name, int elemType, Object... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      s.addDim(
          d instanceof String str
              ? TensorShapeProto.Dimension.newBuilder().setDimParam(str)
              : TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s)))
        .build();
  }

  static NodeProto node(String op, List<String> in, List<String> out, AttributeProto... attrs) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).addAllInput(in).addAllOutput(out);
    for (AttributeProto a : attrs) {
      n.addAttribute(a);
    }
    return n.build();
  }

  static ModelProto.Builder modelBuilder(GraphProto g, int opset) {
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("cmod-tests")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setGraph(g);
  }

  static byte[] model(GraphProto g, int opset) {
    return modelBuilder(g, opset).build().toByteArray();
  }

  static TensorProto int64s(String name, long[] dims, long... values) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(INT64);
    for (long d : dims) {
      t.addDims(d);
    }
    for (long v : values) {
      t.addInt64Data(v);
    }
    return t.build();
  }

  static AttributeProto tensorAttr(String name, TensorProto t) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.TENSOR)
        .setT(t)
        .build();
  }

  static AttributeProto graphAttr(String name, GraphProto g) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.GRAPH)
        .setG(g)
        .build();
  }

  /**
   * One output per name, each Identity(x); x f32[4]. Output names are taken as they are (hostile
   * ones included).
   */
  static byte[] identities(List<String> outputNames) {
    GraphProto.Builder g = GraphProto.newBuilder().setName("g").addInput(value("x", FLOAT, 4L));
    for (String n : outputNames) {
      g.addNode(node("Identity", List.of("x"), List.of(n)));
      g.addOutput(value(n, FLOAT, 4L));
    }
    return model(g.build(), 17);
  }

  /**
   * y = ConstantOfShape([n]) + x, x f32[1] (broadcast): a model of a few hundred bytes whose output
   * has n elements; {@code declared}: whether y's shape is given as [n] or as a symbolic dim.
   */
  static byte[] constantOfShape(long n, boolean declared) {
    GraphProto g =
        GraphProto.newBuilder()
            .setName("g")
            .addInput(declared ? value("x", FLOAT, 1L) : value("x", FLOAT, "batch", 1L))
            .addOutput(declared ? value("y", FLOAT, n) : value("y", FLOAT, "batch", "n"))
            .addNode(
                node(
                    "Constant",
                    List.of(),
                    List.of("shape"),
                    tensorAttr("value", int64s("shape", new long[] {1}, n))))
            .addNode(node("ConstantOfShape", List.of("shape"), List.of("big")))
            .addNode(node("Add", List.of("big", "x"), List.of("y")))
            .build();
    return model(g, 17);
  }

  /**
   * y = Expand(x, [n]), x f32[1]: an output of n elements; {@code declared}: y's shape given as [n]
   * (else symbolic).
   */
  static byte[] expand(long n, boolean declared) {
    GraphProto g =
        GraphProto.newBuilder()
            .setName("g")
            .addInput(value("x", FLOAT, 1L))
            .addOutput(declared ? value("y", FLOAT, n) : value("y", FLOAT, "n"))
            .addNode(
                node(
                    "Constant",
                    List.of(),
                    List.of("shape"),
                    tensorAttr("value", int64s("shape", new long[] {1}, n))))
            .addNode(node("Expand", List.of("x", "shape"), List.of("y")))
            .build();
    return model(g, 17);
  }

  /**
   * y = Expand(x, shape), x f32[1], shape an i64[1] input: the output size is known only at run
   * time.
   */
  static byte[] expandByInput(Long declared) {
    GraphProto g =
        GraphProto.newBuilder()
            .setName("g")
            .addInput(value("x", FLOAT, 1L))
            .addInput(value("shape", INT64, 1L))
            .addOutput(declared != null ? value("y", FLOAT, declared) : value("y", FLOAT, "n"))
            .addNode(node("Expand", List.of("x", "shape"), List.of("y")))
            .build();
    return model(g, 17);
  }

  /** A Loop without a trip count whose condition stays true: it never ends. x, y f32[4]. */
  static byte[] endlessLoop() {
    TensorProto cond =
        TensorProto.newBuilder().setName("cond").setDataType(BOOL).addInt32Data(1).build();
    GraphProto body =
        GraphProto.newBuilder()
            .setName("body")
            .addInput(value("i", INT64))
            .addInput(value("cond_in", BOOL))
            .addInput(value("v_in", FLOAT, 4L))
            .addOutput(value("cond_out", BOOL))
            .addOutput(value("v_out", FLOAT, 4L))
            .addNode(node("Identity", List.of("cond_in"), List.of("cond_out")))
            .addNode(node("Identity", List.of("v_in"), List.of("v_out")))
            .build();
    GraphProto g =
        GraphProto.newBuilder()
            .setName("g")
            .addInput(value("x", FLOAT, 4L))
            .addOutput(value("y", FLOAT, 4L))
            .addInitializer(cond)
            .addNode(node("Loop", List.of("", "cond", "x"), List.of("y"), graphAttr("body", body)))
            .build();
    return model(g, 17);
  }

  /** y = Identity(x) with x and y of ONNX element type {@code elem} and shape [4]. */
  static byte[] identity(int elem) {
    GraphProto g =
        GraphProto.newBuilder()
            .setName("g")
            .addInput(value("x", elem, 4L))
            .addOutput(value("y", elem, 4L))
            .addNode(node("Identity", List.of("x"), List.of("y")))
            .build();
    return model(g, 17);
  }

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }
}
