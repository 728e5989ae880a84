package dev.cmod.onnx.importer;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;

/**
 * Readers and builders of ONNX node protos for the rewriting of opaque regions ({@link
 * RegionRewriter}), which works on the file's nodes themselves rather than on raised IR values.
 */
final class NodeProtos {
  private NodeProtos() {}

  static boolean isDefaultDomain(NodeProto n) {
    return n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
  }

  /** The attribute {@code name} of {@code n}, or null. */
  static AttributeProto attr(NodeProto n, String name) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a;
      }
    }
    return null;
  }

  /** Removes attribute {@code name} (every copy) from {@code b}. */
  static void drop(NodeProto.Builder b, String name) {
    for (int i = b.getAttributeCount() - 1; i >= 0; i--) {
      if (b.getAttribute(i).getName().equals(name)) {
        b.removeAttribute(i);
      }
    }
  }

  static long[] longs(AttributeProto a) {
    return a.getIntsList().stream().mapToLong(Long::longValue).toArray();
  }

  static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(v).build();
  }

  static AttributeProto intsAttr(String name, long[] v) {
    AttributeProto.Builder b =
        AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
    for (long x : v) {
      b.addInts(x);
    }
    return b.build();
  }

  /** The integer attribute {@code name} of {@code n}, or {@code dflt} when it is absent. */
  static long intOf(NodeProto n, String name, long dflt) {
    AttributeProto a = attr(n, name);
    return a == null ? dflt : a.getI();
  }

  /** The string attribute {@code name} of {@code n}, or {@code dflt} when it is absent. */
  static String stringOf(NodeProto n, String name, String dflt) {
    AttributeProto a = attr(n, name);
    return a == null ? dflt : a.getS().toStringUtf8();
  }

  static AttributeProto stringAttr(String name, String v) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeType.STRING)
        .setS(ByteString.copyFromUtf8(v))
        .build();
  }

  static TypeProto scalarType(int elemType) {
    return TypeProto.newBuilder()
        .setTensorType(
            TypeProto.Tensor.newBuilder()
                .setElemType(elemType)
                .setShape(TensorShapeProto.getDefaultInstance()))
        .build();
  }

  static ValueInfoProto scalarInfo(String name, int elemType) {
    return ValueInfoProto.newBuilder().setName(name).setType(scalarType(elemType)).build();
  }

  /** An int64 tensor of {@code values}: a scalar (one value) or a vector. */
  static TensorProto int64s(long[] values, boolean scalar) {
    TensorProto.Builder t = TensorProto.newBuilder().setDataType(TensorProto.DataType.INT64_VALUE);
    if (!scalar) {
      t.addDims(values.length);
    }
    for (long v : values) {
      t.addInt64Data(v);
    }
    return t.build();
  }

  /** A float tensor of {@code values}: a scalar (one value) or a vector. */
  static TensorProto floats(float[] values, boolean scalar) {
    TensorProto.Builder t = TensorProto.newBuilder().setDataType(TensorProto.DataType.FLOAT_VALUE);
    if (!scalar) {
      t.addDims(values.length);
    }
    for (float v : values) {
      t.addFloatData(v);
    }
    return t.build();
  }

  /** The {@code value} attribute of a Constant or ConstantOfShape node. */
  static AttributeProto value(TensorProto t) {
    return AttributeProto.newBuilder()
        .setName("value")
        .setType(AttributeType.TENSOR)
        .setT(t)
        .build();
  }
}
