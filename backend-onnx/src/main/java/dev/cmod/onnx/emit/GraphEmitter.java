package dev.cmod.onnx.emit;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.LeafOps;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.EmitOptions;
import dev.cmod.onnx.OnnxVersions;
import dev.cmod.onnx.Precision;
import dev.cmod.onnx.Target;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The emitter's walk over a graph: fixes the interface names, then hands every operator node to its
 * lowering from {@link LoweringTable}, so that the walk knows nothing about any one operator.
 * {@link dev.cmod.onnx.OnnxEmitter} is the public entry point and documents the naming scheme.
 */
public final class GraphEmitter {
  private GraphEmitter() {}

  /**
   * The fusion rules that match in {@code g} for target {@code t} at precision {@code p}, with
   * their counts.
   */
  public static Map<String, Integer> fusions(Graph g, Target t, Precision p) {
    return Legalizer.plan(p == Precision.F16 ? HalfPrecision.convert(g, t).graph() : g, t).counts();
  }

  /** What {@code --precision f16} does to {@code g} for target {@code t}, as one line. */
  public static String halfPrecisionSummary(Graph g, Target t) {
    return HalfPrecision.convert(g, t).summary();
  }

  /** The half-precision copy of {@code g} that the f16 artifact for {@code t} is emitted from. */
  public static Graph halfPrecisionGraph(Graph g, Target t) {
    return HalfPrecision.convert(g, t).graph();
  }

  /** Lowers {@code g} to a ModelProto message. */
  public static ModelProto build(Graph g, EmitOptions opts) {
    return build(g, opts, true);
  }

  /**
   * Lowers {@code g}; without {@code fuse} every node gets its own lowering (the tests' "before" of
   * each fusion rule).
   */
  static ModelProto build(Graph source, EmitOptions opts, boolean fuse) {
    Graph g =
        opts.precision() == Precision.F16
            ? HalfPrecision.convert(source, opts.target()).graph()
            : source;
    GraphProto.Builder gb = GraphProto.newBuilder().setName(g.name() == null ? "" : g.name());
    Target target = opts.target();
    LoweringContext cx = new LoweringContext(g, gb, opts.sourceDocStrings(), target.opset());
    List<Node> nodes = g.nodes();

    // 1. names fixed by the interface: inputs, parameter paths, outputs
    for (Node in : g.inputs()) {
      String name = in.attrs().getString("name");
      cx.reserve(name, "input");
      cx.bind(in.out(), name);
    }
    for (Node n : nodes) {
      if (n.op() == Op.PARAM) {
        String path = n.attrs().getString("path");
        cx.reserve(path, "parameter");
        cx.bind(n.out(), path);
      }
    }
    for (String out : g.outputs().keySet()) {
      cx.reserve(out, "output");
    }
    // 2. an operator's value takes the name of the first output it feeds; other values get
    // v<id>[_k]
    Set<Value> named = new HashSet<>();
    for (Map.Entry<String, Value> o : g.outputs().entrySet()) {
      Value v = o.getValue();
      if (!v.node().op().isLeaf() && named.add(v)) {
        cx.bind(v, o.getKey());
      }
    }
    for (Node n : nodes) {
      if (n.op() == Op.CONST) {
        cx.bind(n.out(), cx.fresh("const_" + n.id()));
      } else if (!n.op().isLeaf()) {
        for (int i = 0; i < n.outputTypes().size(); i++) {
          if (!cx.isBound(n.out(i))) {
            cx.bind(n.out(i), cx.fresh(i == 0 ? "v" + n.id() : "v" + n.id() + "_" + i));
          }
        }
      }
    }

    // 3. the fusion step's choices, then graph inputs, then nodes in topological order
    Legalizer.Plan plan = fuse ? Legalizer.plan(g, target) : Legalizer.none();
    if (target.microsoft()) {
      cx.requireDomain(Target.MICROSOFT, Target.MICROSOFT_VERSION);
    }
    for (Node in : g.inputs()) {
      gb.addInput(valueInfo(in.attrs().getString("name"), in.type()));
    }
    // a run-time adapter's factors: graph inputs whose initializers are their defaults
    for (Node n : nodes) {
      if (n.op() == Op.PARAM && LeafOps.OVERRIDABLE.get(n.attrs())) {
        gb.addInput(valueInfo(n.attrs().getString("path"), n.type()));
      }
    }
    for (Node n : nodes) {
      switch (n.op()) {
        case INPUT -> {}
        case PARAM -> cx.initializer(cx.name(n.out()), n.attrs().getTensor("value"));
        case CONST -> cx.initializer(cx.name(n.out()), n.attrs().getTensor("value"));
        case ONNX_REGION -> {
          if (target.opset() != OnnxVersions.OPSET) {
            throw new IllegalArgumentException(
                "an imported model's opaque region is kept at opset "
                    + OnnxVersions.OPSET
                    + "; compile it with --target onnx17 or ort, not "
                    + target.text());
          }
          RegionInliner.inline(cx, n);
        }
        default -> {
          if (plan.covered().contains(n)) {
            continue;
          }
          List<String> outs = new java.util.ArrayList<>();
          for (int i = 0; i < n.outputTypes().size(); i++) {
            outs.add(cx.name(n.out(i)));
          }
          Legalizer.Claim claim = plan.roots().get(n);
          cx.begin(n);
          try {
            if (claim != null) {
              claim.rule().lowering().lower(cx, claim.match(), n, outs);
            } else {
              LoweringTable.forOp(n.op()).lower(cx, n, cx.operandNames(n), outs);
            }
          } finally {
            cx.end();
          }
        }
      }
    }

    // 4. outputs; an Identity wherever the value already carries another name
    for (Map.Entry<String, Value> o : g.outputs().entrySet()) {
      String outName = o.getKey();
      Value v = o.getValue();
      String have = cx.name(v);
      if (!have.equals(outName)) {
        cx.node("Identity", List.of(have), List.of(outName));
      }
      gb.addOutput(valueInfo(outName, v.type()));
    }

    ModelProto.Builder mb =
        ModelProto.newBuilder()
            .setIrVersion(target.irVersion())
            .addOpsetImport(
                OperatorSetIdProto.newBuilder()
                    .setDomain(OnnxVersions.DOMAIN)
                    .setVersion(target.opset()))
            .setProducerName("cmod")
            .setProducerVersion(opts.producerVersion());
    for (Map.Entry<String, Long> d : cx.domains().entrySet()) {
      mb.addOpsetImport(
          OperatorSetIdProto.newBuilder().setDomain(d.getKey()).setVersion(d.getValue()));
    }
    mb.addAllFunctions(cx.functions());
    String doc = docString(g.metadata());
    if (doc != null) {
      mb.setDocString(doc);
    }
    for (Map.Entry<String, String> e : g.metadata().entrySet()) {
      mb.addMetadataProps(
          StringStringEntryProto.newBuilder().setKey(e.getKey()).setValue(e.getValue()));
    }
    return mb.setGraph(gb).build();
  }

  /** The model doc string: metadata "doc", "doc_string" or "description", whichever comes first. */
  private static String docString(Map<String, String> metadata) {
    for (String k : List.of("doc", "doc_string", "description")) {
      if (metadata.containsKey(k)) {
        return metadata.get(k);
      }
    }
    return null;
  }

  /** A ValueInfo with the tensor type; symbolic dims become dim_param, unknown dims stay empty. */
  static ValueInfoProto valueInfo(String name, TensorType t) {
    return dev.cmod.onnx.TensorProtos.valueInfo(name, t);
  }
}
