package dev.cmod.onnx.emit;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.TensorProtos;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Owns the ONNX graph under construction: hands out unique value and node names, maps IR values to
 * ONNX value names, caches helper constants and runtime shape computations, and is the only place
 * where {@link NodeProto}s are made. Maps are used for look-up only, never iterated, so the output
 * depends only on the order of calls.
 */
final class LoweringContext {
  private final Graph ir;
  private final GraphProto.Builder graph;
  private final boolean docStrings;
  private final int opset;
  private final Set<String> valueNames = new HashSet<>();
  private final Set<String> nodeNames = new HashSet<>();
  private final Map<Value, String> irNames = new HashMap<>();
  private final Map<Object, String> cache = new HashMap<>();
  private final Map<String, Long> domains = new TreeMap<>();
  private final Map<String, FunctionProto> functions = new TreeMap<>();
  private Node current;
  private int sharedCount;

  LoweringContext(Graph ir, GraphProto.Builder graph, boolean docStrings, int opset) {
    this.ir = ir;
    this.graph = graph;
    this.docStrings = docStrings;
    this.opset = opset;
  }

  /** The version of the default operator domain the model imports. */
  int opset() {
    return opset;
  }

  // ---------------------------------------------------------------- names

  /** Claims {@code name} exactly; fails when it is already used. */
  void reserve(String name, String what) {
    if (!valueNames.add(name)) {
      throw new IllegalArgumentException("ONNX name '" + name + "' (" + what + ") is used twice");
    }
  }

  /** {@code base}, or {@code base_1}, {@code base_2}, ... whichever is free; claims it. */
  String fresh(String base) {
    String name = base;
    for (int k = 1; !valueNames.add(name); k++) {
      name = base + "_" + k;
    }
    return name;
  }

  private String freshNode(String base) {
    String name = base;
    for (int k = 1; !nodeNames.add(name); k++) {
      name = base + "_" + k;
    }
    return name;
  }

  /** Records the ONNX name of an IR value (the name must already be claimed). */
  void bind(Value v, String name) {
    irNames.put(v, name);
  }

  boolean isBound(Value v) {
    return irNames.containsKey(v);
  }

  /** The ONNX name of an IR value. */
  String name(Value v) {
    String s = irNames.get(v);
    if (s == null) {
      throw new IllegalStateException("no ONNX name for " + v);
    }
    return s;
  }

  /** The ONNX names of a node's operands, in slot order. */
  List<String> operandNames(Node n) {
    List<String> out = new ArrayList<>();
    for (Value v : ir.operands(n)) {
      out.add(name(v));
    }
    return out;
  }

  /** The IR graph being lowered. */
  Graph ir() {
    return ir;
  }

  /** The type of operand {@code i} of {@code n}. */
  TensorType operandType(Node n, int i) {
    return ir.operands(n).get(i).type();
  }

  // ---------------------------------------------------------------- node scope

  /** Starts lowering {@code n}: helper names and doc strings refer to it until {@link #end}. */
  void begin(Node n) {
    current = n;
  }

  void end() {
    current = null;
  }

  private String base() {
    return "n" + current.id() + "_" + current.op().text();
  }

  /** A fresh name for an intermediate value. */
  String tmp() {
    return current == null ? fresh("s" + sharedCount++) : fresh("v" + current.id() + "_t");
  }

  /**
   * Runs {@code body} outside the current node's scope (for cached helpers shared between nodes).
   */
  private String shared(Supplier<String> body) {
    Node saved = current;
    current = null;
    try {
      return body.get();
    } finally {
      current = saved;
    }
  }

  private String cached(Object key, Supplier<String> make) {
    String s = cache.get(key);
    if (s == null) {
      s = shared(make);
      cache.put(key, s);
    }
    return s;
  }

  // ---------------------------------------------------------------- nodes

  /** Adds one ONNX node of the default domain. */
  void node(String opType, List<String> inputs, List<String> outputs, AttributeProto... attrs) {
    node("", opType, inputs, outputs, attrs);
  }

  /** Adds one ONNX node of operator domain {@code domain}; the only place NodeProtos are made. */
  void node(
      String domain,
      String opType,
      List<String> inputs,
      List<String> outputs,
      AttributeProto... attrs) {
    String nodeName;
    if (current == null) {
      nodeName = freshNode((outputs.isEmpty() ? "s" : outputs.get(0)) + "_" + opType);
    } else {
      String b = base();
      boolean main = false;
      for (int i = 0; i < current.outputTypes().size(); i++) {
        main |= outputs.contains(irNames.get(current.out(i)));
      }
      nodeName = freshNode(main ? b : b + "_" + opType);
    }
    NodeProto.Builder nb = NodeProto.newBuilder().setName(nodeName).setOpType(opType);
    if (!domain.isEmpty()) {
      nb.setDomain(domain);
    }
    nb.addAllInput(inputs).addAllOutput(outputs);
    for (AttributeProto a : attrs) {
      nb.addAttribute(a);
    }
    if (current != null && docStrings && current.loc() != null) {
      nb.setDocString(current.loc().toString());
    }
    graph.addNode(nb);
  }

  /** Adds a single-output node writing a fresh intermediate value; returns its name. */
  String op(String opType, List<String> inputs, AttributeProto... attrs) {
    String out = tmp();
    node(opType, inputs, List.of(out), attrs);
    return out;
  }

  /**
   * A reduction over {@code axes}: the axes are an attribute up to opset 17 and an input from 18 on
   * (ReduceSum's have been an input since 13; use it directly).
   */
  void reduce(String opType, String x, long[] axes, long keepdims, List<String> outputs) {
    if (opset < 18) {
      node(opType, List.of(x), outputs, Attr.ints("axes", axes), Attr.i("keepdims", keepdims));
    } else {
      node(opType, List.of(x, i64s(axes)), outputs, Attr.i("keepdims", keepdims));
    }
  }

  /** {@link #reduce} into a fresh intermediate value; returns its name. */
  String reduceOp(String opType, String x, long[] axes, long keepdims) {
    String out = tmp();
    reduce(opType, x, axes, keepdims, List.of(out));
    return out;
  }

  /** {@link #op(String, List, AttributeProto...)} without attributes. */
  String op(String opType, String... inputs) {
    return op(opType, List.of(inputs));
  }

  /**
   * Adds a node of an opaque region as it is (its names already mapped into this graph); its name
   * is made unique among this graph's nodes.
   */
  void verbatim(NodeProto.Builder node) {
    graph.addNode(node.setName(freshNode(node.getName())));
  }

  /** Adds an initializer of an opaque region (already renamed). */
  void initializer(TensorProto t) {
    graph.addInitializer(t);
  }

  /** Records that the model needs operator set {@code domain} at {@code version} (or newer). */
  void requireDomain(String domain, long version) {
    domains.merge(domain, version, Math::max);
  }

  /** Adds a model-local function an opaque region calls (once per domain and name). */
  void function(FunctionProto f) {
    functions.putIfAbsent(f.getDomain() + "\u0000" + f.getName(), f);
  }

  /** The operator sets besides the default one that opaque regions need, by domain. */
  Map<String, Long> domains() {
    return domains;
  }

  /** The model-local functions opaque regions call, in domain and name order. */
  java.util.Collection<FunctionProto> functions() {
    return functions.values();
  }

  // ---------------------------------------------------------------- initializers and constants

  /** Adds an initializer named exactly {@code name}. */
  void initializer(String name, Tensor t) {
    graph.addInitializer(TensorProtos.of(name, t));
  }

  private String constant(Object key, Tensor t) {
    return cached(
        key,
        () -> {
          String name = fresh("c" + sharedCount++);
          initializer(name, t);
          return name;
        });
  }

  /** A 1-D int64 constant. */
  String i64s(long... values) {
    return constant(
        List.of("i64s", java.util.Arrays.toString(values)),
        Tensor.ofLongs(new long[] {values.length}, values.clone()));
  }

  /** A rank-0 int64 constant. */
  String i64(long value) {
    return constant(List.of("i64", value), Tensor.ofLongs(new long[0], new long[] {value}));
  }

  /** A 1-D float32 constant. */
  String f32s(float... values) {
    return constant(
        List.of("f32s", java.util.Arrays.toString(values)),
        Tensor.ofFloats(new long[] {values.length}, values.clone()));
  }

  /** A rank-0 constant of dtype {@code dt} (float or integer). */
  String scalar(double value, DType dt) {
    Tensor t =
        dt.isFloat()
            ? Tensor.ofFloats(dt, new long[0], new float[] {(float) value})
            : Tensor.ofLongs(dt, new long[0], new long[] {(long) value});
    return constant(List.of("scalar", dt.text, Double.doubleToLongBits(value)), t);
  }

  // ---------------------------------------------------------------- runtime shapes

  /** The 1-D int64 shape of value {@code v} at runtime (one Shape node per value). */
  String shapeOf(String v) {
    return cached(
        List.of("shape", v),
        () -> {
          String out = fresh(v + "_shape");
          node("Shape", List.of(v), List.of(out));
          return out;
        });
  }

  /** Axis {@code axis} of value {@code v} at runtime as a rank-0 int64. */
  String axisScalar(String v, int axis) {
    return cached(
        List.of("axis", v, axis),
        () -> {
          String out = fresh(v + "_dim" + axis);
          node("Gather", List.of(shapeOf(v), i64(axis)), List.of(out), Attr.i("axis", 0));
          return out;
        });
  }

  /** The runtime value of a symbol as a 1-D int64 of one element. */
  String symbol(String name) {
    return cached(
        List.of("sym", name),
        () -> {
          Graph.SymbolSource src = ir.symbols().get(name);
          if (src == null) {
            throw new IllegalArgumentException(
                "symbolic dim '" + name + "' is not bound to an axis of any model input");
          }
          String out = fresh("sym_" + name);
          node(
              "Gather",
              List.of(shapeOf(src.input()), i64s(src.axis())),
              List.of(out),
              Attr.i("axis", 0));
          return out;
        });
  }

  /** A dim as a 1-D int64 of one element, computed at runtime when symbolic. */
  String dim(Dim d) {
    if (d.isUnknown()) {
      throw new IllegalArgumentException(
          "cannot lower an unknown dim ('_') to ONNX; give it a name or a size");
    }
    if (d.isKnown()) {
      return i64s(d.value());
    }
    return expr(DimExpr.parse(d.toString()));
  }

  /** A dim as a rank-0 int64. */
  String dimScalar(Dim d) {
    if (d.isKnown()) {
      return i64(d.value());
    }
    return cached(
        List.of("dimScalar", d.toString()),
        () -> {
          String out = tmp();
          node("Squeeze", List.of(dim(d), i64s(0)), List.of(out));
          return out;
        });
  }

  private String expr(DimExpr e) {
    if (e instanceof DimExpr.Const c) {
      return i64s(c.value());
    }
    if (e instanceof DimExpr.Sym s) {
      return symbol(s.name());
    }
    return cached(
        e,
        () -> {
          if (e instanceof DimExpr.Sum s) {
            String acc = expr(s.terms().get(0));
            if (s.negate().get(0)) {
              acc = op("Neg", acc);
            }
            for (int i = 1; i < s.terms().size(); i++) {
              acc = op(s.negate().get(i) ? "Sub" : "Add", acc, expr(s.terms().get(i)));
            }
            return acc;
          }
          if (e instanceof DimExpr.Product p) {
            String acc = expr(p.factors().get(0));
            for (int i = 1; i < p.factors().size(); i++) {
              acc = op("Mul", acc, expr(p.factors().get(i)));
            }
            return acc;
          }
          DimExpr.FloorDiv d = (DimExpr.FloorDiv) e;
          return op("Div", expr(d.num()), expr(d.den()));
        });
  }

  /** A shape as a 1-D int64 tensor: a constant when every dim is known, else a runtime Concat. */
  String shape(List<Dim> dims) {
    boolean known = true;
    for (Dim d : dims) {
      known &= d.isKnown();
    }
    if (known) {
      long[] v = new long[dims.size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = dims.get(i).value();
      }
      return i64s(v);
    }
    return cached(
        List.of("shape-of-dims", dims.toString()),
        () -> {
          List<String> parts = new ArrayList<>();
          for (Dim d : dims) {
            parts.add(dim(d));
          }
          return op("Concat", parts, Attr.i("axis", 0));
        });
  }
}
