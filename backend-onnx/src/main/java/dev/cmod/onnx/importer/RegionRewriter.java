package dev.cmod.onnx.importer;

import static dev.cmod.onnx.importer.NodeProtos.attr;
import static dev.cmod.onnx.importer.NodeProtos.isDefaultDomain;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxVersions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rewriting of an opaque region's nodes from the model's opset to the one cmod emits ({@value
 * OnnxVersions#OPSET}): an opaque region is inlined into an opset-{@value OnnxVersions#OPSET}
 * artifact, where ONNX Runtime reads every node by its opset-{@value OnnxVersions#OPSET} schema, so
 * an operator whose signature changed between the two opsets would be rejected or read with another
 * meaning. The subclasses convert one node each way ({@link OpsetUpgrade} from older opsets, {@link
 * OpsetDowngrade} from newer ones); this class walks subgraphs ({@code If}, {@code Loop}, {@code
 * Scan} bodies, any graph attribute), tracks the constants a conversion may read, and makes the
 * extra nodes a conversion needs, under names no value or node of the model has.
 */
abstract class RegionRewriter {
  final ImportSource source;
  final int opset;
  private final Set<String> taken = new HashSet<>();

  /** Constant tensors by value name, one map per graph scope being rewritten (innermost first). */
  private final Deque<Map<String, TensorProto>> constants = new ArrayDeque<>();

  /** The nodes the current conversion places before the node it returns. */
  List<NodeProto> before;

  /** Whether the nodes being rewritten are a local function's. */
  private boolean inFunction;

  private ModelProto rewrittenHeader;

  RegionRewriter(ImportSource source) {
    this.source = source;
    this.opset = source.opset();
    collectNames(source.graph());
    Map<String, TensorProto> top = new HashMap<>();
    for (NodeProto n : source.graph().getNodeList()) {
      addConstant(top, n);
    }
    constants.push(top);
  }

  /**
   * The region model's header made from the file's: the default domain imported at {@value
   * OnnxVersions#OPSET}, an ir_version that allows it, and the local functions rewritten like the
   * nodes (their bodies run at the same opset).
   */
  final ModelProto header() {
    if (rewrittenHeader == null) {
      ModelProto header = source.header();
      ModelProto.Builder b = header.toBuilder().clearOpsetImport().clearFunctions();
      b.addAllOpsetImport(atEmittedOpset(header.getOpsetImportList()));
      if (b.getIrVersion() < OnnxVersions.IR_VERSION) {
        b.setIrVersion(OnnxVersions.IR_VERSION);
      }
      header.getFunctionsList().forEach(f -> b.addFunctions(function(f)));
      rewrittenHeader = b.build();
    }
    return rewrittenHeader;
  }

  private static List<OperatorSetIdProto> atEmittedOpset(List<OperatorSetIdProto> imports) {
    List<OperatorSetIdProto> out = new ArrayList<>();
    for (OperatorSetIdProto o : imports) {
      boolean dflt = o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx");
      out.add(dflt ? o.toBuilder().setVersion(OnnxVersions.OPSET).build() : o);
    }
    return out;
  }

  private FunctionProto function(FunctionProto f) {
    FunctionProto.Builder b = f.toBuilder().clearNode().clearOpsetImport();
    b.addAllOpsetImport(atEmittedOpset(f.getOpsetImportList()));
    Map<String, TensorProto> local = new HashMap<>();
    f.getNodeList().forEach(n -> addConstant(local, n));
    constants.push(local);
    inFunction = true; // a function's names are its own: the graph's values are not in scope
    try {
      for (NodeProto n : f.getNodeList()) {
        b.addAllNode(node(n));
      }
      return b.build();
    } finally {
      inFunction = false;
      constants.pop();
    }
  }

  /** The nodes that compute at {@value OnnxVersions#OPSET} what {@code n} computes. */
  final List<NodeProto> node(NodeProto n) {
    NodeProto withBodies = subgraphs(n);
    List<NodeProto> saved = before;
    before = new ArrayList<>();
    try {
      NodeProto last = isDefaultDomain(n) ? convert(withBodies) : withBodies;
      List<NodeProto> out = new ArrayList<>(before);
      out.add(last);
      return out;
    } finally {
      before = saved;
    }
  }

  /** Whether the nodes being rewritten are a local function's (the graph's names mean nothing). */
  final boolean inFunction() {
    return inFunction;
  }

  /**
   * The default-domain node {@code n} (its subgraphs already rewritten) at {@value
   * OnnxVersions#OPSET}; the nodes it needs first go to {@link #before}.
   */
  abstract NodeProto convert(NodeProto n);

  /** What the user can do about a node that has no exact form at {@value OnnxVersions#OPSET}. */
  abstract String advice();

  // ---------------------------------------------------------------- subgraphs

  private NodeProto subgraphs(NodeProto n) {
    if (!dev.cmod.onnx.Subgraphs.has(n)) {
      return n;
    }
    NodeProto.Builder b = n.toBuilder();
    dev.cmod.onnx.Subgraphs.map(n, b, this::graph);
    return b.build();
  }

  private GraphProto graph(GraphProto g) {
    Map<String, TensorProto> local = new HashMap<>();
    g.getInitializerList().forEach(t -> local.put(t.getName(), t));
    g.getNodeList().forEach(n -> addConstant(local, n));
    constants.push(local);
    try {
      GraphProto.Builder b = g.toBuilder().clearNode();
      for (NodeProto n : g.getNodeList()) {
        b.addAllNode(node(n));
      }
      return b.build();
    } finally {
      constants.pop();
    }
  }

  // ---------------------------------------------------------------- helpers

  /** The constant value of input {@code i} of {@code n}, or null when it is not a constant here. */
  final Tensor get(NodeProto n, int i) {
    if (i >= n.getInputCount() || n.getInput(i).isEmpty()) {
      return null;
    }
    String name = n.getInput(i);
    for (Map<String, TensorProto> scope : constants) {
      TensorProto t = scope.get(name);
      if (t != null) {
        return source.tensor(t, "constant '" + name + "'");
      }
    }
    return inFunction ? null : outerConstant(name);
  }

  /**
   * The value of {@code name}, made outside every subgraph being rewritten and not by a {@code
   * Constant} node, when it is known at import time; null otherwise.
   */
  Tensor outerConstant(String name) {
    return source.initializerNames().contains(name) ? source.initializer(name) : null;
  }

  private static void addConstant(Map<String, TensorProto> into, NodeProto n) {
    if (n.getOpType().equals("Constant") && isDefaultDomain(n) && n.getOutputCount() == 1) {
      AttributeProto v = attr(n, "value");
      if (v != null && v.hasT()) {
        into.put(n.getOutput(0), v.getT());
      }
    }
  }

  private void collectNames(GraphProto g) {
    g.getInputList().forEach(v -> taken.add(v.getName()));
    g.getOutputList().forEach(v -> taken.add(v.getName()));
    g.getInitializerList().forEach(t -> taken.add(t.getName()));
    for (NodeProto n : g.getNodeList()) {
      taken.add(n.getName());
      taken.addAll(n.getInputList());
      taken.addAll(n.getOutputList());
      for (AttributeProto a : n.getAttributeList()) {
        if (a.hasG()) {
          collectNames(a.getG());
        }
        a.getGraphsList().forEach(this::collectNames);
      }
    }
  }

  /** A name no value or node of the model has, derived from {@code n}'s first output. */
  final String fresh(NodeProto n, String what) {
    String base =
        (n.getOutputCount() > 0 && !n.getOutput(0).isEmpty() ? n.getOutput(0) : n.getOpType())
            + "/opset"
            + OnnxVersions.OPSET
            + "/"
            + what;
    String name = base;
    for (int k = 1; !taken.add(name); k++) {
      name = base + "_" + k;
    }
    return name;
  }

  /** A {@code Constant} node of int64 {@code values} placed before {@code n}; its output name. */
  final String constInts(NodeProto n, String what, long[] values, boolean scalar) {
    return constant(n, what, NodeProtos.int64s(values, scalar));
  }

  final String constFloats(NodeProto n, String what, float[] values) {
    return constant(n, what, NodeProtos.floats(values, false));
  }

  final String constant(NodeProto n, String what, TensorProto t) {
    String out = fresh(n, what);
    before.add(
        NodeProto.newBuilder()
            .setOpType("Constant")
            .setName(out)
            .addOutput(out)
            .addAttribute(NodeProtos.value(t))
            .build());
    return out;
  }

  /** A float scalar attribute as a scalar of the element type of {@code n}'s first input. */
  final String likeInput(NodeProto n, String what, float value) {
    String c = constant(n, what, NodeProtos.floats(new float[] {value}, true));
    String out = fresh(n, what + "_like");
    before.add(op(n, "CastLike", List.of(c, n.getInput(0)), out));
    return out;
  }

  final NodeProto op(NodeProto n, String type, List<String> ins, String out) {
    return NodeProto.newBuilder()
        .setOpType(type)
        .setName(fresh(n, type))
        .addAllInput(ins)
        .addOutput(out)
        .build();
  }

  final AttributeProto need(NodeProto n, String name) {
    AttributeProto a = attr(n, name);
    if (a == null) {
      throw refuse(n, "lacks its attribute '" + name + "'");
    }
    return a;
  }

  final ImportException refuse(NodeProto n, String why) {
    return new ImportException(
        "ONNX operator '"
            + n.getOpType()
            + "'"
            + (n.getName().isEmpty() ? "" : " (node '" + n.getName() + "')")
            + " at the model's opset "
            + opset
            + " is carried opaque (runs on ONNX Runtime) and must be rewritten for opset "
            + OnnxVersions.OPSET
            + ", which cmod emits, but it "
            + why
            + ", which has no exact equivalent there; "
            + advice());
  }
}
