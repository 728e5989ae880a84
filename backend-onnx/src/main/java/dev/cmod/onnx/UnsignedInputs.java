package dev.cmod.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.cmod.ir.type.DType;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * How {@link OnnxRunner} feeds u16, u32 and u64 inputs. ONNX Runtime's Java API makes tensors of
 * every ONNX numeric type but those three, so the session the runner opens (never the artifact
 * written to disk) takes each such input as the next wider signed type that holds every value (u16
 * as i32, u32 and u64 as i64, a u64 by its 64 bits) and casts it back as its first node: ONNX's
 * Cast between integer types keeps the low bits, so the model sees exactly the values given.
 */
final class UnsignedInputs {
  private UnsignedInputs() {}

  /** The wide type each unsigned type travels as. */
  static DType wide(DType d) {
    return switch (d) {
      case U16 -> DType.I32;
      case U32, U64 -> DType.I64;
      default -> null;
    };
  }

  /**
   * {@code model} with every graph input of type u16, u32 or u64 taken as its wide type and cast
   * back; each such input's name and original type are put into {@code widened}.
   */
  static byte[] widen(byte[] model, Map<String, DType> widened) {
    ModelProto m;
    try {
      m = ModelProto.parseFrom(model);
    } catch (InvalidProtocolBufferException e) {
      throw new RunnerException("not an ONNX model: " + e.getMessage(), e);
    }
    GraphProto g = m.getGraph();
    Set<String> taken = new HashSet<>();
    g.getInputList().forEach(v -> taken.add(v.getName()));
    g.getNodeList().forEach(n -> taken.addAll(n.getOutputList()));
    g.getInitializerList().forEach(t -> taken.add(t.getName()));
    Map<String, String> rename = new LinkedHashMap<>();
    GraphProto.Builder gb = g.toBuilder().clearNode();
    for (int i = 0; i < g.getInputCount(); i++) {
      ValueInfoProto in = g.getInput(i);
      TypeProto.Tensor t = in.getType().getTensorType();
      DType d = in.getType().hasTensorType() ? DType.fromOnnx(t.getElemType()) : null;
      DType w = d == null ? null : wide(d);
      if (w == null) {
        continue;
      }
      String inner = in.getName() + "__unsigned";
      for (int k = 2; taken.contains(inner); k++) {
        inner = in.getName() + "__unsigned" + k;
      }
      taken.add(inner);
      rename.put(in.getName(), inner);
      widened.put(in.getName(), d);
      ValueInfoProto.Builder vb = in.toBuilder();
      vb.getTypeBuilder().getTensorTypeBuilder().setElemType(w.onnxCode);
      gb.setInput(i, vb);
      gb.addNode(
          NodeProto.newBuilder()
              .setOpType("Cast")
              .setName(inner)
              .addInput(in.getName())
              .addOutput(inner)
              .addAttribute(
                  AttributeProto.newBuilder()
                      .setName("to")
                      .setType(AttributeProto.AttributeType.INT)
                      .setI(d.onnxCode)));
    }
    if (rename.isEmpty()) {
      return model;
    }
    for (NodeProto n : g.getNodeList()) {
      gb.addNode(renamed(n, rename));
    }
    // a graph output that is such an input itself stays the (wide) input; the runner reads it back
    return m.toBuilder().setGraph(gb).build().toByteArray();
  }

  /** {@code n} reading the renamed inputs, in its subgraphs too (outer-scope references). */
  private static NodeProto renamed(NodeProto n, Map<String, String> rename) {
    NodeProto.Builder b = n.toBuilder();
    for (int i = 0; i < n.getInputCount(); i++) {
      String r = rename.get(n.getInput(i));
      if (r != null) {
        b.setInput(i, r);
      }
    }
    Subgraphs.map(n, b, g -> renamedGraph(g, rename));
    return b.build();
  }

  private static GraphProto renamedGraph(GraphProto g, Map<String, String> rename) {
    Map<String, String> visible = new LinkedHashMap<>(rename);
    g.getInputList().forEach(v -> visible.remove(v.getName()));
    g.getInitializerList().forEach(t -> visible.remove(t.getName()));
    GraphProto.Builder b = g.toBuilder().clearNode();
    for (NodeProto n : g.getNodeList()) {
      b.addNode(renamed(n, visible));
      n.getOutputList().forEach(visible::remove);
    }
    for (int i = 0; i < g.getOutputCount(); i++) {
      String r = visible.get(g.getOutput(i).getName());
      if (r != null) {
        b.setOutput(i, g.getOutput(i).toBuilder().setName(r));
      }
    }
    return b.build();
  }
}
