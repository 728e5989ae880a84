package dev.cmod.fuzz;

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

/** Small hand-built ONNX models (y = x + w) for the reliability and findings tests. */
final class OnnxModels {
  private OnnxModels() {}

  static TensorProto external(String name, String location) {
    return TensorProto.newBuilder().setName(name).setDataType(1).addDims(4)
        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
        .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location))
        .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue("0"))
        .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue("16")).build();
  }

  static byte[] addModel(TensorProto init, SparseTensorProto sparse) {
    TypeProto f4 = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1)
        .setShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(4)))).build();
    GraphProto.Builder g = GraphProto.newBuilder().setName("g")
        .addInput(ValueInfoProto.newBuilder().setName("x").setType(f4))
        .addOutput(ValueInfoProto.newBuilder().setName("y").setType(f4))
        .addNode(NodeProto.newBuilder().setOpType("Add").addInput("x").addInput("w").addOutput("y"));
    if (init != null) {
      g.addInitializer(init);
    }
    if (sparse != null) {
      g.addSparseInitializer(sparse);
    }
    return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
        .setGraph(g).build().toByteArray();
  }

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }
}
