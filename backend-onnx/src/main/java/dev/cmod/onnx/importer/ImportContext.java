package dev.cmod.onnx.importer;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The state of one import (one {@link dev.cmod.ir.graph.ImportedModule#apply}) and the helpers
 * every operator's handler shares: the ONNX values seen so far ({@link ImportValue}), the current
 * node and its attributes, and the IR nodes added. It walks the ONNX nodes in order and hands each
 * to its entry in {@link ImportTable}, so it knows no operator itself.
 */
public final class ImportContext {
  private final ImportSource source;
  private final Graph g;
  private final String prefix;
  private final SourceLoc loc;
  private final int opset;
  private final Map<String, ImportValue> env = new HashMap<>();
  private final Map<String, Value> existingParams = new HashMap<>();
  private final Map<String, String> pathOwner = new HashMap<>();
  private final Set<String> used = new HashSet<>();
  private final Map<List<Object>, Value> scalars = new HashMap<>();
  private NodeProto cur;

  /**
   * The refusal of the current node's handler for a variant the importer does not raise (made by
   * {@link #unsupportedHere}): such a node is carried opaque; every other refusal stands.
   */
  private ImportException variant;

  private final Set<String> outputNames;

  private ImportContext(ImportSource source, Graph g, String prefix, SourceLoc loc) {
    this.source = source;
    this.outputNames = Set.copyOf(source.outputNames());
    this.g = g;
    this.prefix = prefix;
    this.loc = loc;
    this.opset = source.opset();
  }

  /**
   * Adds the computation of {@code source}'s graph to {@code g}, its inputs bound to {@code args}
   * (already checked against the model's inputs), its weights as frozen parameters under {@code
   * prefix}; returns the IR values of the model's outputs.
   *
   * @throws ImportException when the model uses an operator, attribute or input the importer does
   *     not support
   */
  public static List<Value> translate(
      ImportSource source, Graph g, String prefix, SourceLoc loc, List<Value> args) {
    return new ImportContext(source, g, prefix, loc).run(args);
  }

  private List<Value> run(List<Value> args) {
    Set<Node> before = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Node n : g.nodes()) {
      before.add(n);
      if (n.op() == Op.PARAM) {
        existingParams.put(n.attrs().getString("path"), n.out());
      }
    }
    for (int i = 0; i < args.size(); i++) {
      env.put(source.inputNames().get(i), ImportValue.of(args.get(i)));
    }
    for (String name : source.initializerNames()) {
      if (!env.containsKey(name)) {
        env.put(name, null); // placeholder: converted on first use
      }
    }
    for (NodeProto n : source.graph().getNodeList()) {
      used.addAll(OpaqueRegions.reads(n)); // subgraph bodies' references to outer values too
    }
    for (ValueInfoProto o : source.graph().getOutputList()) {
      used.add(o.getName());
    }
    OpaqueRegions regions = new OpaqueRegions(this, source, symbolsOf(args));
    List<NodeProto> nodes = source.graph().getNodeList();
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto n = nodes.get(i);
      cur = n;
      ImportTable.Entry entry = isDefaultDomain(n) ? ImportTable.forType(n.getOpType()) : null;
      if (entry == null || regions.mustExtend(i) || !raisedTypes(n)) {
        // the run still makes an untyped value that this or a later node reads: it stays open
        regions.carry(i);
        continue;
      }
      regions.close();
      cur = n;
      variant = null;
      try {
        entry.handler().apply(this);
        requireStaticOutputs();
        requireRaisedOutputs();
      } catch (ShapeException e) {
        throw new ShapeException("in ONNX node " + describe() + ": " + e.getMessage());
      } catch (ImportException e) {
        if (e != variant) {
          throw e;
        }
        // a known operator in a variant the importer does not raise: carried opaque instead
        for (String o : n.getOutputList()) {
          env.remove(o);
        }
        regions.carry(i);
      } catch (RuntimeException e) {
        throw new ImportException("cannot import ONNX node " + describe() + ": " + e.getMessage());
      }
    }
    regions.close();
    cur = null;
    List<Value> outs = new ArrayList<>();
    for (String o : source.outputNames()) {
      outs.add(val(get(o)));
    }
    return PatternRaising.apply(g, before, prefix, outs);
  }

  // ---------------------------------------------------------------- what a handler reads

  /** The IR graph the model is added to. */
  Graph graph() {
    return g;
  }

  /** The source location every added node carries (the import's application). */
  SourceLoc loc() {
    return loc;
  }

  /** The model's opset of the default ONNX domain. */
  int opset() {
    return opset;
  }

  /** The ONNX node being translated. */
  NodeProto node() {
    return cur;
  }

  /** A tensor held in an attribute of the current node, as an IR tensor. */
  Tensor tensor(TensorProto t, String what) {
    return source.tensor(t, what);
  }

  // ---------------------------------------------------------------- values

  String describe() {
    return cur == null ? "(none)" : "'" + cur.getOpType() + "'" + nodeName();
  }

  /** Sets the node whose ONNX values are being read or written (a region's nodes, one by one). */
  void at(NodeProto n) {
    cur = n;
  }

  /** Binds ONNX value {@code name} to an IR value (an opaque region's output). */
  void define(String name, Value v) {
    env.put(name, ImportValue.of(v));
  }

  /**
   * Whether ONNX value {@code name} is an initializer not yet read by a raised node (so an opaque
   * region that alone reads it can hold it).
   */
  boolean untouchedInitializer(String name) {
    return env.containsKey(name) && env.get(name) == null;
  }

  private String nodeName() {
    return cur == null || cur.getName().isEmpty() ? "" : " (node '" + cur.getName() + "')";
  }

  private ImportException unsupported(String what) {
    return new ImportException("ONNX import: " + what);
  }

  ImportException unsupportedHere(String what) {
    variant =
        new ImportException(
            "ONNX operator " + describe() + ": " + what + " is not supported by the importer");
    return variant;
  }

  private static boolean isDefaultDomain(NodeProto n) {
    return n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
  }

  /**
   * A model output computed at import time (the result of Shape or Size) must be a constant: one
   * that depends on a symbolic size needs the operator at run time, so its node is carried opaque.
   */
  /**
   * Whether every tensor node {@code n} reads, and the element type its attributes name (Cast's
   * {@code to}, a Constant's value), is one the raised tier computes with ({@link
   * OnnxTypes#raised}); a node of u8, i8 and the like is carried opaque.
   */
  private boolean raisedTypes(NodeProto n) {
    for (String in : n.getInputList()) {
      DType d = in.isEmpty() ? null : dtypeOf(in);
      if (d != null && !OnnxTypes.raised(d)) {
        return false;
      }
    }
    for (AttributeProto a : n.getAttributeList()) {
      int code =
          switch (a.getName()) {
            case "to" -> n.getOpType().equals("Cast") ? (int) a.getI() : 0;
            case "value" -> a.hasT() ? a.getT().getDataType() : 0;
            default -> 0;
          };
      DType d = code == 0 ? null : DType.fromOnnx(code);
      if (d != null && !OnnxTypes.raised(d)) {
        return false;
      }
    }
    return true;
  }

  /** The element type of ONNX value {@code name} where known without reading its data. */
  private DType dtypeOf(String name) {
    if (!env.containsKey(name)) {
      return null;
    }
    ImportValue v = env.get(name);
    if (v == null) {
      return DType.fromOnnx(source.initializerType(name));
    }
    if (v.value != null) {
      return v.value.type().dtype();
    }
    return v.tensor != null ? v.tensor.dtype() : v.dimsType;
  }

  /** The safety net behind {@link #raisedTypes}: a raised node makes no tensor of other types. */
  private void requireRaisedOutputs() {
    for (String o : cur.getOutputList()) {
      DType d = o.isEmpty() ? null : dtypeOf(o);
      if (d != null && !OnnxTypes.raised(d)) {
        throw unsupportedHere("a " + d + " result (quantized types run on ONNX Runtime)");
      }
    }
  }

  private void requireStaticOutputs() {
    for (String o : cur.getOutputList()) {
      ImportValue v = env.get(o);
      if (v != null && v.dims != null && outputNames.contains(o)) {
        for (Dim d : v.dims) {
          if (!d.isKnown()) {
            throw unsupportedHere("a model output computed from the size " + d);
          }
        }
      }
    }
  }

  /**
   * The IR dim of each symbolic size of the file's graph inputs, from the arguments the import is
   * applied to (the boundary types of opaque regions use them).
   */
  private Map<String, Dim> symbolsOf(List<Value> args) {
    Map<String, Dim> m = new HashMap<>();
    Map<String, ValueInfoProto> decl = new HashMap<>();
    for (ValueInfoProto in : source.graph().getInputList()) {
      decl.putIfAbsent(in.getName(), in);
    }
    for (int i = 0; i < args.size(); i++) {
      ValueInfoProto in = decl.get(source.inputNames().get(i));
      if (in == null || !in.getType().getTensorType().hasShape()) {
        continue;
      }
      List<ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension> ds =
          in.getType().getTensorType().getShape().getDimList();
      TensorType t = args.get(i).type();
      for (int a = 0; a < ds.size() && a < t.rank(); a++) {
        if (!ds.get(a).getDimParam().isEmpty() && !t.dim(a).isUnknown()) {
          m.putIfAbsent(ds.get(a).getDimParam(), t.dim(a));
        }
      }
    }
    return m;
  }

  ImportValue get(String name) {
    if (!env.containsKey(name)) {
      throw new ImportException("ONNX value '" + name + "' is used before it is defined");
    }
    ImportValue v = env.get(name);
    if (v == null) {
      v = ImportValue.tensor(source.initializer(name), name);
      env.put(name, v);
    }
    return v;
  }

  /**
   * The ONNX value {@code name} when a node outside any opaque region has defined it; null
   * otherwise, and for an initializer no node has read yet (its data is not read here).
   */
  ImportValue peek(String name) {
    return env.get(name);
  }

  /**
   * Whether ONNX value {@code name} is a shape folded at import with a size known only at run time
   * (so an opaque region that reads it recomputes it from the nodes that made it).
   */
  boolean isSymbolicShape(String name) {
    ImportValue v = env.get(name);
    return v != null && v.dims != null && v.dims.stream().anyMatch(d -> !d.isKnown());
  }

  ImportValue in(int i) {
    if (i >= cur.getInputCount() || cur.getInput(i).isEmpty()) {
      return null;
    }
    return get(cur.getInput(i));
  }

  ImportValue need(int i) {
    ImportValue v = in(i);
    if (v == null) {
      throw new ImportException("ONNX operator " + describe() + " is missing input " + i);
    }
    return v;
  }

  void out(int i, ImportValue v) {
    if (i < cur.getOutputCount() && !cur.getOutput(i).isEmpty()) {
      env.put(cur.getOutput(i), v);
    }
  }

  void out(Value v) {
    out(0, ImportValue.of(v));
  }

  boolean outputUsed(int i) {
    return i < cur.getOutputCount()
        && !cur.getOutput(i).isEmpty()
        && used.contains(cur.getOutput(i));
  }

  void onlyFirstOutput() {
    for (int i = 1; i < cur.getOutputCount(); i++) {
      if (outputUsed(i)) {
        throw unsupportedHere("output " + i + " ('" + cur.getOutput(i) + "')");
      }
    }
  }

  /** The IR value of an ONNX value, adding a PARAM or CONST for a known tensor. */
  Value val(ImportValue v) {
    if (v.value != null) {
      return v.value;
    }
    if (v.tensor != null) {
      Tensor t = v.tensor;
      if (v.paramName != null && t.isFloat() && t.size() > 1) {
        v.value = param(v.paramName, t);
      } else {
        v.value = g.addConst(t, loc);
      }
      return v.value;
    }
    long[] l = new long[v.dims.size()];
    for (int i = 0; i < l.length; i++) {
      Dim d = v.dims.get(i);
      if (!d.isKnown()) {
        variant =
            new ImportException(
                "ONNX operator "
                    + describe()
                    + " uses a shape computed from the size "
                    + d
                    + " as a tensor; the importer only folds such shapes into Reshape, Expand and"
                    + " the like");
        throw variant;
      }
      l[i] = d.value();
    }
    v.value =
        g.addConst(
            Tensor.ofLongs(v.dimsType, v.scalar ? new long[0] : new long[] {l.length}, l), loc);
    return v.value;
  }

  /** Readable names for weights the exporter left unnamed, by initializer name (built once). */
  private Map<String, String> readable;

  /**
   * The name a weight's parameter path is made from: its initializer name, except for a weight
   * PyTorch's exporter names only by number ({@code onnx::MatMul_787}) that is the {@code B} of
   * exactly one MatMul or Gemm with a scoped node name ({@code
   * /encoder/layer.0/attention/self/query/MatMul}): that one is named after its layer, {@code
   * encoder.layer.0.attention.self.query.weight}, beside the layer's named bias. A name that
   * another initializer has, or that two weights would share, is not used.
   */
  private String readableName(String name) {
    if (readable == null) {
      Map<String, Integer> reads = new HashMap<>();
      for (NodeProto n : source.graph().getNodeList()) {
        for (String r : OpaqueRegions.reads(n)) {
          reads.merge(r, 1, Integer::sum);
        }
      }
      Map<String, String> names = new HashMap<>();
      Map<String, Integer> taken = new HashMap<>();
      for (NodeProto n : source.graph().getNodeList()) {
        boolean matmul = n.getOpType().equals("MatMul") || n.getOpType().equals("Gemm");
        if (!matmul || n.getInputCount() < 2 || !n.getName().startsWith("/")) {
          continue;
        }
        String w = n.getInput(1);
        int cut = n.getName().lastIndexOf('/');
        if (!w.startsWith("onnx::") || reads.getOrDefault(w, 0) != 1 || cut <= 1) {
          continue;
        }
        String r = n.getName().substring(1, cut).replace('/', '.') + ".weight";
        if (!source.initializerNames().contains(r)) {
          names.put(w, r);
          taken.merge(r, 1, Integer::sum);
        }
      }
      names.values().removeIf(r -> taken.get(r) > 1);
      readable = names;
    }
    return readable.getOrDefault(name, name);
  }

  private Value param(String name, Tensor t) {
    String path = prefix + "." + sanitize(readableName(name));
    String owner = pathOwner.get(path);
    if (owner != null && !owner.equals(name)) {
      for (int k = 2; ; k++) {
        String p = path + "_" + k;
        String o = pathOwner.get(p);
        if (o == null || o.equals(name)) {
          path = p;
          break;
        }
      }
    }
    pathOwner.put(path, name);
    Value have = existingParams.get(path);
    TensorType type = TensorType.of(t.dtype(), t.shape());
    if (have != null) {
      if (!have.type().equals(type)) {
        throw new ImportException(
            "parameter '"
                + path
                + "' already exists with type "
                + have.type()
                + " but the ONNX model's weight '"
                + name
                + "' is "
                + type);
      }
      return have;
    }
    Value v = g.addParam(path, t, false, loc);
    existingParams.put(path, v);
    return v;
  }

  private static String sanitize(String name) {
    if (name.isEmpty()) {
      return "_";
    }
    StringBuilder sb = new StringBuilder();
    for (char c : name.toCharArray()) {
      sb.append(Character.isLetterOrDigit(c) && c < 128 || c == '_' || c == '.' ? c : '_');
    }
    return sb.toString();
  }

  TensorType type(ImportValue v) {
    if (v.value != null) {
      return v.value.type();
    }
    if (v.tensor != null) {
      return TensorType.of(v.tensor.dtype(), v.tensor.shape());
    }
    return v.scalar
        ? new TensorType(v.dimsType, List.of())
        : new TensorType(v.dimsType, List.of(Dim.of(v.dims.size())));
  }

  /**
   * The elements of an integer vector or scalar known at import time (possibly symbolic); null
   * otherwise.
   */
  static List<Dim> dimsOf(ImportValue v) {
    if (v.dims != null) {
      return v.dims;
    }
    if (v.tensor != null
        && !v.tensor.isFloat()
        && v.tensor.dtype() != DType.BOOL
        && v.tensor.rank() <= 1) {
      List<Dim> d = new ArrayList<>();
      for (long x : v.tensor.longs()) {
        d.add(Dim.of(x));
      }
      return d;
    }
    return null;
  }

  /**
   * The elements of an integer vector known at import time, symbolic sizes included (a bound read
   * through {@code Shape}); the variant exception naming {@code what} otherwise.
   */
  List<Dim> constDims(ImportValue v, String what) {
    List<Dim> d = v == null ? null : dimsOf(v);
    if (d == null) {
      throw unsupportedHere("a " + what + " computed at run time");
    }
    return d;
  }

  /** Known integer values of an import-time input, or an ImportException naming {@code what}. */
  long[] constInts(ImportValue v, String what) {
    List<Dim> d = v == null ? null : dimsOf(v);
    if (d == null) {
      throw unsupportedHere("a " + what + " computed at run time");
    }
    long[] out = new long[d.size()];
    for (int i = 0; i < out.length; i++) {
      if (!d.get(i).isKnown()) {
        throw unsupportedHere("a symbolic " + what + " (" + d + ")");
      }
      out[i] = d.get(i).value();
    }
    return out;
  }

  boolean isScalar(ImportValue v) {
    return v.dims != null ? v.scalar : type(v).rank() == 0;
  }

  // ---------------------------------------------------------------- attributes

  AttributeProto attr(String name) {
    for (AttributeProto a : cur.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a;
      }
    }
    return null;
  }

  long attrInt(String name, long dflt) {
    AttributeProto a = attr(name);
    return a == null ? dflt : a.getI();
  }

  float attrFloat(String name, float dflt) {
    AttributeProto a = attr(name);
    return a == null ? dflt : a.getF();
  }

  long[] attrInts(String name) {
    AttributeProto a = attr(name);
    if (a == null) {
      return null;
    }
    long[] out = new long[a.getIntsCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.getInts(i);
    }
    return out;
  }

  String attrString(String name, String dflt) {
    AttributeProto a = attr(name);
    return a == null ? dflt : a.getS().toStringUtf8();
  }

  int axis(long a, int rank) {
    long x = a < 0 ? a + rank : a;
    if (x < 0 || x >= rank) {
      throw new ImportException(
          "ONNX operator " + describe() + ": axis " + a + " is out of range for rank " + rank);
    }
    return (int) x;
  }

  // ---------------------------------------------------------------- IR helpers

  Value add(Op op, Attrs a, Value... xs) {
    return g.add(op, a, List.of(xs), loc).out();
  }

  Value add(Op op, Value... xs) {
    return add(op, Attrs.NONE, xs);
  }

  Value scalar(double v, DType dt) {
    return scalars.computeIfAbsent(
        List.of(dt, Double.doubleToLongBits(v)),
        k ->
            g.addConst(
                dt.isFloat()
                    ? Tensor.ofFloats(dt, new long[0], new float[] {(float) v})
                    : Tensor.ofLongs(dt, new long[0], new long[] {(long) v}),
                loc));
  }

  Value reshape(Value x, List<Dim> dims) {
    if (x.type().dims().equals(dims)) {
      return x;
    }
    return add(Op.RESHAPE, Attrs.of("dims", List.copyOf(dims)), x);
  }

  static Dim product(List<Dim> ds) {
    Dim p = Dim.of(1);
    for (Dim d : ds) {
      p = p.times(d);
    }
    return p;
  }

  static List<Dim> ones(int n) {
    List<Dim> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Dim.of(1));
    }
    return out;
  }

  void noUnknown(List<Dim> dims, String what) {
    for (Dim d : dims) {
      if (d.isUnknown()) {
        throw unsupportedHere(
            "a " + what + " with a size the importer cannot determine (" + dims + ")");
      }
    }
  }
}
