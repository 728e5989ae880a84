package dev.cmod.onnx.emit;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.SparseTensorProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.OnnxRegion;
import dev.cmod.ir.op.OpaqueOps;
import dev.cmod.onnx.OnnxVersions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Emits an opaque ONNX region ({@link dev.cmod.ir.graph.Op#ONNX_REGION}) inline: its nodes,
 * attributes and subgraphs are copied verbatim, every value and node name it defines is prefixed
 * {@code r<id>/} (made unique against the rest of the graph), its inputs and outputs are wired to
 * the surrounding values, its initializers are added under their new names, and the model imports
 * the operator sets of the region's other domains (and its local functions). Names inside subgraphs
 * are renamed with the same map, so a body's references to outer values stay right (ONNX names are
 * unique across a model's scopes, so one map serves every scope).
 */
final class RegionInliner {
  private final LoweringContext cx;
  private final String prefix;
  private final Map<String, String> names = new HashMap<>();

  private RegionInliner(LoweringContext cx, String prefix) {
    this.cx = cx;
    this.prefix = prefix;
  }

  static void inline(LoweringContext cx, Node n) {
    OnnxRegion r = OpaqueOps.REGION.get(n.attrs());
    ModelProto m;
    try {
      m = ModelProto.parseFrom(r.model());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("onnx_region " + n.id() + " holds no ONNX model", e);
    }
    for (OperatorSetIdProto o : m.getOpsetImportList()) {
      boolean dflt = o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx");
      if (dflt && o.getVersion() > OnnxVersions.OPSET) {
        throw new IllegalArgumentException(
            "an opaque ONNX region needs opset "
                + o.getVersion()
                + ", newer than the opset cmod emits ("
                + OnnxVersions.OPSET
                + ")");
      }
      if (!dflt) {
        cx.requireDomain(o.getDomain(), o.getVersion());
      }
    }
    m.getFunctionsList().forEach(cx::function);
    RegionInliner in = new RegionInliner(cx, "r" + n.id() + "/");
    List<String> operands = cx.operandNames(n);
    for (int i = 0; i < operands.size(); i++) {
      in.names.put(r.inputNames().get(i), operands.get(i));
    }
    for (int i = 0; i < r.outputNames().size(); i++) {
      in.names.put(r.outputNames().get(i), cx.name(n.out(i)));
    }
    GraphProto g = m.getGraph();
    for (TensorProto t : g.getInitializerList()) {
      cx.initializer(t.toBuilder().setName(in.name(t.getName())).build());
    }
    for (NodeProto node : g.getNodeList()) {
      NodeProto.Builder b = in.node(node);
      cx.verbatim(
          b.setName(in.prefix + (node.getName().isEmpty() ? node.getOpType() : node.getName())));
    }
  }

  /** The new name of a value the region reads or defines; the empty name (no input) stays. */
  private String name(String old) {
    if (old.isEmpty()) {
      return old;
    }
    return names.computeIfAbsent(old, k -> cx.fresh(prefix + k));
  }

  private NodeProto.Builder node(NodeProto n) {
    NodeProto.Builder b = n.toBuilder().clearInput().clearOutput();
    n.getInputList().forEach(s -> b.addInput(name(s)));
    n.getOutputList().forEach(s -> b.addOutput(name(s)));
    dev.cmod.onnx.Subgraphs.map(n, b, this::graph);
    return b;
  }

  /** A subgraph with every name renamed (its own names and its references to outer values). */
  private GraphProto graph(GraphProto g) {
    GraphProto.Builder b = g.toBuilder().clearInput().clearOutput().clearValueInfo();
    b.clearInitializer().clearSparseInitializer().clearNode();
    g.getInputList().forEach(v -> b.addInput(info(v)));
    g.getOutputList().forEach(v -> b.addOutput(info(v)));
    g.getValueInfoList().forEach(v -> b.addValueInfo(info(v)));
    g.getInitializerList().forEach(t -> b.addInitializer(t.toBuilder().setName(name(t.getName()))));
    for (SparseTensorProto t : g.getSparseInitializerList()) {
      SparseTensorProto.Builder sb = t.toBuilder();
      sb.setValues(t.getValues().toBuilder().setName(name(t.getValues().getName())));
      b.addSparseInitializer(sb);
    }
    for (NodeProto n : g.getNodeList()) {
      NodeProto.Builder nb = node(n);
      if (!n.getName().isEmpty()) {
        nb.setName(prefix + n.getName());
      }
      b.addNode(nb);
    }
    return b.build();
  }

  private ValueInfoProto info(ValueInfoProto v) {
    return v.toBuilder().setName(name(v.getName())).build();
  }
}
