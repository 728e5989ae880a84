package dev.cmod.onnx.importer;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.OnnxRegion;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.OpaqueOps;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.OnnxVersions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The opaque tier of import: the ONNX nodes the importer does not raise (an operator without an
 * entry in {@link ImportTable}, control flow, a foreign domain such as {@code com.microsoft}, a
 * known operator in a variant its handler refuses) are carried verbatim as {@link Op#ONNX_REGION}
 * nodes. A region is a maximal run of such nodes that are consecutive in the file's (topological)
 * order, so no path leaves a region and comes back through a raised node. Its inputs are the values
 * it reads (subgraphs' references to outer values included) that are made outside it; the
 * initializers only it reads go inside its model; its outputs are the values it makes that anything
 * else reads, typed from the file (graph outputs and {@code value_info}). The nodes of a model
 * older or newer than the emitted opset are rewritten to it ({@link OpsetUpgrade}, {@link
 * OpsetDowngrade}).
 */
final class OpaqueRegions {
  private final ImportContext cx;
  private final ImportSource source;
  private final List<NodeProto> nodes;
  private final Map<String, Dim> symbols;

  /** For every ONNX value, the indices of the top-level nodes that read it (in subgraphs too). */
  private final Map<String, Set<Integer>> readers = new HashMap<>();

  /** For every ONNX value a top-level node makes, that node's index. */
  private final Map<String, Integer> producer = new HashMap<>();

  private final Map<String, ValueInfoProto> declared = new HashMap<>();
  private final Set<String> modelOutputs = new HashSet<>();
  private final List<Integer> run = new ArrayList<>();

  /** The rewriting of a region's nodes to the emitted opset, made on first use. */
  private RegionRewriter rewriter;

  /**
   * @param symbols the IR dim of each symbolic size of the file's inputs (for boundary types)
   */
  OpaqueRegions(ImportContext cx, ImportSource source, Map<String, Dim> symbols) {
    this.cx = cx;
    this.source = source;
    this.nodes = source.graph().getNodeList();
    this.symbols = symbols;
    for (int i = 0; i < nodes.size(); i++) {
      for (String name : reads(nodes.get(i))) {
        readers.computeIfAbsent(name, k -> new HashSet<>()).add(i);
      }
      for (String o : nodes.get(i).getOutputList()) {
        producer.put(o, i);
      }
    }
    for (ValueInfoProto v : source.graph().getValueInfoList()) {
      declared.putIfAbsent(v.getName(), v);
    }
    for (ValueInfoProto v : source.graph().getOutputList()) {
      declared.put(v.getName(), v);
      modelOutputs.add(v.getName());
    }
  }

  /** Adds node {@code i} to the current run of opaque nodes. */
  void carry(int i) {
    run.add(i);
  }

  /**
   * Whether the current run makes a value that the file gives no type and that node {@code i} or a
   * later node reads: the run cannot end before node {@code i} (a region's outputs need types), so
   * node {@code i} joins it even where the importer could raise it. In the worst case the run grows
   * to the end of the graph, whose outputs the file types.
   */
  boolean mustExtend(int i) {
    for (int m : run) {
      for (String o : nodes.get(m).getOutputList()) {
        if (o.isEmpty() || typed(o)) {
          continue;
        }
        for (int r : readers.getOrDefault(o, Set.of())) {
          if (r >= i) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private boolean typed(String name) {
    ValueInfoProto v = declared.get(name);
    return v != null
        && v.getType().hasTensorType()
        && v.getType().getTensorType().hasShape()
        && v.getType().getTensorType().getElemType() != 0;
  }

  /** Ends the current run: adds its region to the graph and binds the values it makes. */
  void close() {
    if (run.isEmpty()) {
      return;
    }
    List<Integer> members = List.copyOf(run);
    run.clear();
    Set<Integer> inRun = new HashSet<>(members);
    Map<String, NodeProto> made = new java.util.LinkedHashMap<>();
    for (int i : members) {
      for (String o : nodes.get(i).getOutputList()) {
        if (!o.isEmpty()) {
          made.put(o, nodes.get(i));
        }
      }
    }
    cx.at(nodes.get(members.get(0)));
    List<String> inputs = new ArrayList<>();
    List<String> inside = new ArrayList<>();
    // shapes folded at import whose sizes are known only at run time: recomputed in the region
    java.util.TreeSet<Integer> copied = new java.util.TreeSet<>();
    java.util.ArrayDeque<Integer> pending = new java.util.ArrayDeque<>(members);
    Set<String> defined = new HashSet<>(made.keySet());
    List<Integer> readersOrder = new ArrayList<>();
    while (!pending.isEmpty()) {
      int i = pending.poll();
      readersOrder.add(i);
      for (String name : reads(nodes.get(i))) {
        if (cx.isSymbolicShape(name) && producer.containsKey(name) && !defined.contains(name)) {
          int p = producer.get(name);
          if (copied.add(p)) {
            defined.addAll(nodes.get(p).getOutputList());
            pending.add(p);
          }
        }
      }
    }
    for (int i : readersOrder) {
      for (String name : reads(nodes.get(i))) {
        if (defined.contains(name) || inputs.contains(name) || inside.contains(name)) {
          continue;
        }
        boolean onlyHere = inRun.containsAll(readers.get(name)) && !modelOutputs.contains(name);
        if (onlyHere && cx.untouchedInitializer(name)) {
          inside.add(name);
        } else {
          inputs.add(name);
        }
      }
    }
    if (inputs.isEmpty() && !inside.isEmpty()) {
      inputs.add(inside.remove(0)); // the IR op takes at least one operand
    }
    if (inputs.isEmpty()) {
      throw new ImportException(
          "ONNX operator "
              + cx.describe()
              + " reads no input of the model, which the importer does not support");
    }
    List<Value> operands = new ArrayList<>();
    List<TensorType> inTypes = new ArrayList<>();
    for (String name : inputs) {
      Value v = cx.val(cx.get(name));
      operands.add(v);
      inTypes.add(v.type());
    }
    List<String> outputs = new ArrayList<>();
    List<TensorType> outTypes = new ArrayList<>();
    for (String name : made.keySet()) {
      Set<Integer> r = readers.getOrDefault(name, Set.of());
      if (modelOutputs.contains(name) || !inRun.containsAll(r)) {
        cx.at(made.get(name));
        outputs.add(name);
        outTypes.add(boundaryType(name));
      }
    }
    if (outputs.isEmpty()) {
      return; // nothing reads what the run makes
    }
    GraphProto.Builder gb = GraphProto.newBuilder().setName("region");
    java.util.TreeSet<Integer> all = new java.util.TreeSet<>(members);
    all.addAll(copied);
    boolean other = source.opset() != OnnxVersions.OPSET;
    if (other && rewriter == null) {
      rewriter =
          OpsetUpgrade.needed(source.opset())
              ? new OpsetUpgrade(source)
              : new OpsetDowngrade(source, new Known());
    }
    for (int i : all) {
      if (other) {
        gb.addAllNode(rewriter.node(nodes.get(i)));
      } else {
        gb.addNode(nodes.get(i));
      }
    }
    for (String name : inside) {
      gb.addInitializer(source.initializerProto(name));
    }
    for (int k = 0; k < inputs.size(); k++) {
      gb.addInput(valueInfo(inputs.get(k), inTypes.get(k)));
    }
    for (int k = 0; k < outputs.size(); k++) {
      gb.addOutput(valueInfo(outputs.get(k), outTypes.get(k)));
    }
    ModelProto header = other ? rewriter.header() : source.header();
    byte[] model = header.toBuilder().setGraph(gb).build().toByteArray();
    OnnxRegion region = new OnnxRegion(model, inputs, inTypes, outputs, outTypes);
    Node n =
        cx.graph()
            .add(Op.ONNX_REGION, Attrs.of(OpaqueOps.REGION.name(), region), operands, cx.loc());
    for (int k = 0; k < outputs.size(); k++) {
      cx.define(outputs.get(k), n.out(k));
    }
  }

  /** What the importer knows of the values a region reads from outside, for its rewriting. */
  private final class Known implements OpsetDowngrade.Facts {
    @Override
    public Tensor constant(String name) {
      ImportValue v = cx.peek(name);
      if (v == null || v.tensor != null) {
        return v == null ? null : v.tensor;
      }
      if (v.dims == null || v.dims.stream().anyMatch(d -> !d.isKnown())) {
        return null;
      }
      long[] d = v.dims.stream().mapToLong(Dim::value).toArray();
      return Tensor.ofLongs(v.dimsType, v.scalar ? new long[0] : new long[] {d.length}, d);
    }

    @Override
    public int rank(String name) {
      ImportValue v = cx.peek(name);
      return v == null ? -1 : cx.type(v).rank();
    }

    @Override
    public int elemType(String name) {
      ImportValue v = cx.peek(name);
      return v == null ? 0 : cx.type(v).dtype().onnxCode;
    }
  }

  /** The type the file gives value {@code name} at a region's boundary. */
  private TensorType boundaryType(String name) {
    String what =
        "ONNX value '"
            + name
            + "', made by "
            + cx.describe()
            + " which the importer carries opaque (runs on ONNX Runtime),";
    if (!typed(name)) {
      throw new ImportException(
          what
              + " has no tensor type with a shape in the file (graph outputs or value_info):"
              + " give it in the import's signature (import onnx \"m.onnx\" as M -> (\""
              + name
              + "\": f32[...])) or add it to the file (onnx.shape_inference.infer_shapes)");
    }
    TypeProto.Tensor t = declared.get(name).getType().getTensorType();
    DType dt = OnnxTypes.dtype(t.getElemType(), what);
    List<Dim> dims = new ArrayList<>();
    for (TensorShapeProto.Dimension d : t.getShape().getDimList()) {
      if (d.hasDimValue() && d.getDimValue() >= 0) {
        dims.add(Dim.of(d.getDimValue()));
      } else {
        dims.add(symbols.getOrDefault(d.getDimParam(), Dim.UNKNOWN));
      }
    }
    return new TensorType(dt, dims);
  }

  /** The values node {@code n} reads: its inputs and its subgraphs' references to outer values. */
  static Set<String> reads(NodeProto n) {
    Set<String> out = new LinkedHashSet<>();
    for (String in : n.getInputList()) {
      if (!in.isEmpty()) {
        out.add(in);
      }
    }
    for (AttributeProto a : n.getAttributeList()) {
      if (a.hasG()) {
        out.addAll(outerNames(a.getG()));
      }
      for (GraphProto sub : a.getGraphsList()) {
        out.addAll(outerNames(sub));
      }
    }
    return out;
  }

  /** The names a subgraph reads that it does not define (outer-scope references). */
  static Set<String> outerNames(GraphProto g) {
    Set<String> defined = new HashSet<>();
    g.getInputList().forEach(v -> defined.add(v.getName()));
    g.getInitializerList().forEach(t -> defined.add(t.getName()));
    g.getSparseInitializerList().forEach(t -> defined.add(t.getValues().getName()));
    Set<String> out = new LinkedHashSet<>();
    for (NodeProto n : g.getNodeList()) {
      for (String r : reads(n)) {
        if (!defined.contains(r)) {
          out.add(r);
        }
      }
      defined.addAll(n.getOutputList());
    }
    for (ValueInfoProto o : g.getOutputList()) {
      if (!defined.contains(o.getName())) {
        out.add(o.getName());
      }
    }
    return out;
  }

  private static ValueInfoProto valueInfo(String name, TensorType t) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Dim d : t.dims()) {
      TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
      if (d.isKnown()) {
        db.setDimValue(d.value());
      }
      shape.addDim(db);
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder().setElemType(t.dtype().onnxCode).setShape(shape)))
        .build();
  }
}
