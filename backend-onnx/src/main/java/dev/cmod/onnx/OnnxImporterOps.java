package dev.cmod.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
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
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Translates the nodes of one ONNX graph into IR nodes (one {@link OnnxImporter.Module#apply}).
 *
 * <p>Every ONNX value is an {@link IV}: an IR value, a tensor known at import time (an initializer
 * or a Constant, added to the graph as a frozen PARAM or a CONST when an IR operand needs it), or
 * an integer vector of IR dims (the result of Shape and the arithmetic on it), which is how shape
 * computations are folded into static (possibly symbolic) reshape targets.
 */
final class OnnxImporterOps {
  private static final long BIG = 1L << 40;

  private final OnnxImporter.Module m;
  private final Graph g;
  private final String prefix;
  private final SourceLoc loc;
  private final int opset;
  private final Map<String, IV> env = new HashMap<>();
  private final Map<String, Value> existingParams = new HashMap<>();
  private final Map<String, String> pathOwner = new HashMap<>();
  private final Set<String> used = new HashSet<>();
  private final Map<List<Object>, Value> scalars = new HashMap<>();
  private NodeProto cur;

  /** An ONNX value during import. Exactly one of value, tensor, dims is the source of truth. */
  static final class IV {
    Value value;
    final Tensor tensor;
    final List<Dim> dims;
    final boolean scalar;
    final DType dimsType;
    final String paramName;

    private IV(
        Value value,
        Tensor tensor,
        List<Dim> dims,
        boolean scalar,
        DType dimsType,
        String paramName) {
      this.value = value;
      this.tensor = tensor;
      this.dims = dims;
      this.scalar = scalar;
      this.dimsType = dimsType;
      this.paramName = paramName;
    }

    static IV of(Value v) {
      return new IV(v, null, null, false, null, null);
    }

    static IV tensor(Tensor t, String paramName) {
      return new IV(null, t, null, false, null, paramName);
    }

    static IV dims(List<Dim> d, boolean scalar, DType dt) {
      return new IV(null, null, List.copyOf(d), scalar, dt, null);
    }
  }

  OnnxImporterOps(OnnxImporter.Module m, Graph g, String prefix, SourceLoc loc) {
    this.m = m;
    this.g = g;
    this.prefix = prefix;
    this.loc = loc;
    this.opset = m.opset;
  }

  List<Value> run(List<Value> args) {
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        existingParams.put(n.attrs().getString("path"), n.out());
      }
    }
    for (int i = 0; i < args.size(); i++) {
      env.put(m.inputNames().get(i), IV.of(args.get(i)));
    }
    for (String name : m.initializers.keySet()) {
      if (!env.containsKey(name)) {
        env.put(name, null); // placeholder: converted on first use
      }
    }
    for (NodeProto n : m.graph.getNodeList()) {
      used.addAll(n.getInputList());
    }
    for (ValueInfoProto o : m.graph.getOutputList()) {
      used.add(o.getName());
    }
    for (NodeProto n : m.graph.getNodeList()) {
      cur = n;
      if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
        throw unsupported(
            "operator '"
                + n.getDomain()
                + "."
                + n.getOpType()
                + "'"
                + nodeName()
                + " is from a domain the importer does not support");
      }
      try {
        translate(n);
      } catch (ShapeException e) {
        throw new ShapeException("in ONNX node " + describe() + ": " + e.getMessage());
      } catch (ImportException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new ImportException("cannot import ONNX node " + describe() + ": " + e.getMessage());
      }
    }
    cur = null;
    List<Value> outs = new ArrayList<>();
    for (String o : m.outputNames()) {
      outs.add(val(get(o)));
    }
    return outs;
  }

  // ---------------------------------------------------------------- values

  private String describe() {
    return "'" + cur.getOpType() + "'" + nodeName();
  }

  private String nodeName() {
    return cur == null || cur.getName().isEmpty() ? "" : " (node '" + cur.getName() + "')";
  }

  private ImportException unsupported(String what) {
    return new ImportException("ONNX import: " + what);
  }

  private ImportException unsupportedHere(String what) {
    return new ImportException(
        "ONNX operator " + describe() + ": " + what + " is not supported by the importer");
  }

  private IV get(String name) {
    if (!env.containsKey(name)) {
      throw new ImportException("ONNX value '" + name + "' is used before it is defined");
    }
    IV v = env.get(name);
    if (v == null) {
      v = IV.tensor(m.initializer(name), name);
      env.put(name, v);
    }
    return v;
  }

  private IV in(int i) {
    if (i >= cur.getInputCount() || cur.getInput(i).isEmpty()) {
      return null;
    }
    return get(cur.getInput(i));
  }

  private IV need(int i) {
    IV v = in(i);
    if (v == null) {
      throw new ImportException("ONNX operator " + describe() + " is missing input " + i);
    }
    return v;
  }

  private void out(int i, IV v) {
    if (i < cur.getOutputCount() && !cur.getOutput(i).isEmpty()) {
      env.put(cur.getOutput(i), v);
    }
  }

  private void out(Value v) {
    out(0, IV.of(v));
  }

  private boolean outputUsed(int i) {
    return i < cur.getOutputCount()
        && !cur.getOutput(i).isEmpty()
        && used.contains(cur.getOutput(i));
  }

  private void onlyFirstOutput() {
    for (int i = 1; i < cur.getOutputCount(); i++) {
      if (outputUsed(i)) {
        throw unsupportedHere("output " + i + " ('" + cur.getOutput(i) + "')");
      }
    }
  }

  /** The IR value of an ONNX value, adding a PARAM or CONST for a known tensor. */
  private Value val(IV v) {
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
        throw new ImportException(
            "ONNX operator "
                + describe()
                + " uses a shape computed from the size "
                + d
                + " as a tensor; the importer only folds such shapes into Reshape, Expand and the like");
      }
      l[i] = d.value();
    }
    v.value =
        g.addConst(
            Tensor.ofLongs(v.dimsType, v.scalar ? new long[0] : new long[] {l.length}, l), loc);
    return v.value;
  }

  private Value param(String name, Tensor t) {
    String path = prefix + "." + sanitize(name);
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

  static String sanitize(String name) {
    if (name.isEmpty()) {
      return "_";
    }
    StringBuilder sb = new StringBuilder();
    for (char c : name.toCharArray()) {
      sb.append(Character.isLetterOrDigit(c) && c < 128 || c == '_' || c == '.' ? c : '_');
    }
    return sb.toString();
  }

  private TensorType type(IV v) {
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
  private static List<Dim> dimsOf(IV v) {
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

  /** Known integer values of an import-time input, or an ImportException naming {@code what}. */
  private long[] constInts(IV v, String what) {
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

  private boolean isScalarIV(IV v) {
    return v.dims != null ? v.scalar : type(v).rank() == 0;
  }

  // ---------------------------------------------------------------- attributes

  private AttributeProto attr(String name) {
    for (AttributeProto a : cur.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a;
      }
    }
    return null;
  }

  private long attrInt(String name, long dflt) {
    AttributeProto a = attr(name);
    return a == null ? dflt : a.getI();
  }

  private float attrFloat(String name, float dflt) {
    AttributeProto a = attr(name);
    return a == null ? dflt : a.getF();
  }

  private long[] attrInts(String name) {
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

  private String attrString(String name, String dflt) {
    AttributeProto a = attr(name);
    return a == null ? dflt : a.getS().toStringUtf8();
  }

  private int axis(long a, int rank) {
    long x = a < 0 ? a + rank : a;
    if (x < 0 || x >= rank) {
      throw new ImportException(
          "ONNX operator " + describe() + ": axis " + a + " is out of range for rank " + rank);
    }
    return (int) x;
  }

  // ---------------------------------------------------------------- IR helpers

  private Value add(Op op, Attrs a, Value... xs) {
    return g.add(op, a, List.of(xs), loc).out();
  }

  private Value add(Op op, Value... xs) {
    return add(op, Attrs.NONE, xs);
  }

  private Value scalar(double v, DType dt) {
    return scalars.computeIfAbsent(
        List.of(dt, Double.doubleToLongBits(v)),
        k ->
            g.addConst(
                dt.isFloat()
                    ? Tensor.ofFloats(dt, new long[0], new float[] {(float) v})
                    : Tensor.ofLongs(dt, new long[0], new long[] {(long) v}),
                loc));
  }

  private Value reshape(Value x, List<Dim> dims) {
    if (x.type().dims().equals(dims)) {
      return x;
    }
    return add(Op.RESHAPE, Attrs.of("dims", List.copyOf(dims)), x);
  }

  private static Dim product(List<Dim> ds) {
    Dim p = Dim.of(1);
    for (Dim d : ds) {
      p = p.times(d);
    }
    return p;
  }

  private static List<Dim> ones(int n) {
    List<Dim> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Dim.of(1));
    }
    return out;
  }

  // ---------------------------------------------------------------- the operators

  private static final Map<String, Op> UNARY =
      Map.ofEntries(
          Map.entry("Neg", Op.NEG),
          Map.entry("Exp", Op.EXP),
          Map.entry("Log", Op.LOG),
          Map.entry("Sqrt", Op.SQRT),
          Map.entry("Abs", Op.ABS),
          Map.entry("Tanh", Op.TANH),
          Map.entry("Sigmoid", Op.SIGMOID),
          Map.entry("Relu", Op.RELU),
          Map.entry("Erf", Op.ERF));

  private static final Map<String, Op> BINARY =
      Map.ofEntries(
          Map.entry("Add", Op.ADD),
          Map.entry("Sub", Op.SUB),
          Map.entry("Mul", Op.MUL),
          Map.entry("Div", Op.DIV),
          Map.entry("Less", Op.LESS),
          Map.entry("LessOrEqual", Op.LESS_EQUAL),
          Map.entry("Greater", Op.GREATER),
          Map.entry("GreaterOrEqual", Op.GREATER_EQUAL),
          Map.entry("Equal", Op.EQUAL));

  private void translate(NodeProto n) {
    String op = n.getOpType();
    Op u = UNARY.get(op);
    if (u != null) {
      out(add(u, val(need(0))));
      return;
    }
    Op b = BINARY.get(op);
    if (b != null) {
      binary(b);
      return;
    }
    switch (op) {
      case "Identity" -> out(0, need(0));
      case "Dropout" -> {
        onlyFirstOutput();
        IV training = in(2);
        if (training != null
            && (training.tensor == null
                || training.tensor.size() != 1
                || training.tensor.get(0) != 0)) {
          throw unsupportedHere("training mode");
        }
        out(0, need(0));
      }
      case "PRelu" -> {
        Value x = val(need(0));
        Value slope = val(need(1));
        DType dt = x.type().dtype();
        out(
            add(
                Op.ADD,
                add(Op.MAXIMUM, x, scalar(0, dt)),
                add(Op.MUL, slope, add(Op.MINIMUM, x, scalar(0, dt)))));
      }
      case "ThresholdedRelu" -> {
        Value x = val(need(0));
        DType dt = x.type().dtype();
        out(
            add(
                Op.WHERE,
                add(Op.GREATER, x, scalar(attrFloat("alpha", 1f), dt)),
                x,
                scalar(0, dt)));
      }
      case "Celu" -> {
        Value x = val(need(0));
        DType dt = x.type().dtype();
        float alpha = attrFloat("alpha", 1f);
        Value e = add(Op.SUB, add(Op.EXP, add(Op.DIV, x, scalar(alpha, dt))), scalar(1, dt));
        out(
            add(
                Op.ADD,
                add(Op.MAXIMUM, x, scalar(0, dt)),
                add(Op.MINIMUM, scalar(0, dt), add(Op.MUL, scalar(alpha, dt), e))));
      }
      case "Constant" -> constant();
      case "Cast" -> cast();
      case "Shape" -> shape();
      case "Size" -> out(0, IV.dims(List.of(product(type(need(0)).dims())), true, DType.I64));
      case "Pow" -> {
        Value x = val(need(0));
        Value y = val(need(1));
        if (y.type().dtype() != x.type().dtype()) {
          y = add(Op.CAST, Attrs.of("to", x.type().dtype()), y);
        }
        out(add(Op.POW, x, y));
      }
      case "Max", "Min", "Sum", "Mean" -> variadic(op);
      case "Not" -> out(add(Op.EQUAL, val(need(0)), scalar(0, DType.BOOL)));
      case "Where" -> out(add(Op.WHERE, val(need(0)), val(need(1)), val(need(2))));
      case "Reciprocal" -> {
        Value x = val(need(0));
        out(add(Op.DIV, scalar(1, x.type().dtype()), x));
      }
      case "LeakyRelu" -> {
        Value x = val(need(0));
        DType dt = x.type().dtype();
        Value neg =
            add(Op.MUL, scalar(attrFloat("alpha", 0.01f), dt), add(Op.MINIMUM, x, scalar(0, dt)));
        out(add(Op.ADD, add(Op.MAXIMUM, x, scalar(0, dt)), neg));
      }
      case "Elu", "Selu" -> {
        Value x = val(need(0));
        DType dt = x.type().dtype();
        boolean selu = op.equals("Selu");
        float alpha = attrFloat("alpha", selu ? 1.67326319217681884765625f : 1f);
        Value em1 = add(Op.SUB, add(Op.EXP, add(Op.MINIMUM, x, scalar(0, dt))), scalar(1, dt));
        Value r =
            add(
                Op.WHERE,
                add(Op.GREATER, x, scalar(0, dt)),
                x,
                add(Op.MUL, scalar(alpha, dt), em1));
        if (selu) {
          r = add(Op.MUL, scalar(attrFloat("gamma", 1.05070102214813232421875f), dt), r);
        }
        out(r);
      }
      case "Softplus" -> {
        // log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)), without overflow
        Value x = val(need(0));
        DType dt = x.type().dtype();
        Value tail =
            add(Op.LOG, add(Op.ADD, scalar(1, dt), add(Op.EXP, add(Op.NEG, add(Op.ABS, x)))));
        out(add(Op.ADD, add(Op.MAXIMUM, x, scalar(0, dt)), tail));
      }
      case "Softsign" -> {
        Value x = val(need(0));
        out(add(Op.DIV, x, add(Op.ADD, scalar(1, x.type().dtype()), add(Op.ABS, x))));
      }
      case "HardSigmoid" ->
          out(hardSigmoid(val(need(0)), attrFloat("alpha", 0.2f), attrFloat("beta", 0.5f)));
      case "HardSwish" -> {
        Value x = val(need(0));
        out(add(Op.MUL, x, hardSigmoid(x, 1f / 6, 0.5f)));
      }
      case "Clip" -> clip();
      case "MatMul" -> out(add(Op.MATMUL, val(need(0)), val(need(1))));
      case "Gemm" -> gemm();
      case "Reshape" -> reshapeOp();
      case "Flatten" -> {
        IV x = need(0);
        TensorType t = type(x);
        long a = attrInt("axis", 1);
        int ax = a < 0 ? (int) (a + t.rank()) : (int) a;
        if (ax < 0 || ax > t.rank()) {
          throw new ImportException(
              "ONNX operator " + describe() + ": axis " + a + " is out of range");
        }
        out(
            reshape(
                val(x),
                List.of(
                    product(t.dims().subList(0, ax)), product(t.dims().subList(ax, t.rank())))));
      }
      case "Transpose" -> {
        Value x = val(need(0));
        int r = x.type().rank();
        long[] perm = attrInts("perm");
        if (perm == null) {
          perm = new long[r];
          for (int i = 0; i < r; i++) {
            perm[i] = r - 1 - i;
          }
        }
        out(add(Op.TRANSPOSE, Attrs.of("perm", perm), x));
      }
      case "Concat" -> concat();
      case "Split" -> split();
      case "Slice" -> slice();
      case "Squeeze" -> squeeze();
      case "Unsqueeze" -> unsqueeze();
      case "Expand" -> {
        Value x = val(need(0));
        List<Dim> target = dimsOf(need(1));
        if (target == null) {
          throw unsupportedHere("a target shape computed at run time");
        }
        noUnknown(target, "target shape");
        out(add(Op.BROADCAST, Attrs.of("dims", List.copyOf(target)), x));
      }
      case "Gather" -> gather();
      case "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin" -> reduce(op);
      case "ArgMax", "ArgMin" -> argmax(op.equals("ArgMin"));
      case "Softmax", "LogSoftmax" -> softmax(op.equals("LogSoftmax"));
      case "LayerNormalization" -> layerNorm();
      case "BatchNormalization" -> batchNorm();
      case "Conv" -> conv();
      case "AveragePool", "MaxPool" -> pool(op.equals("MaxPool"));
      case "GlobalAveragePool", "GlobalMaxPool" -> {
        Value x = val(need(0));
        Op r = op.equals("GlobalMaxPool") ? Op.REDUCE_MAX : Op.REDUCE_MEAN;
        for (int a = x.type().rank() - 1; a >= 2; a--) {
          x = add(r, Attrs.of("axis", a, "keep", true), x);
        }
        out(x);
      }
      case "TopK" -> topk();
      case "ConstantOfShape" -> constantOfShape();
      case "If", "Loop", "Scan" ->
          throw new ImportException(
              "ONNX operator "
                  + describe()
                  + " is control flow (a subgraph), which the importer does not support");
      default ->
          throw new ImportException(
              "ONNX operator " + describe() + " is not supported by the importer");
    }
  }

  private void noUnknown(List<Dim> dims, String what) {
    for (Dim d : dims) {
      if (d.isUnknown()) {
        throw unsupportedHere(
            "a " + what + " with a size the importer cannot determine (" + dims + ")");
      }
    }
  }

  private void binary(Op op) {
    IV a = need(0);
    IV b = need(1);
    List<Dim> da = dimsOf(a);
    List<Dim> db = dimsOf(b);
    boolean arith = op == Op.ADD || op == Op.SUB || op == Op.MUL || op == Op.DIV;
    if (arith
        && da != null
        && db != null
        && (a.dims != null || b.dims != null)
        && (da.size() == db.size() || da.size() == 1 || db.size() == 1)) {
      int len = Math.max(da.size(), db.size());
      List<Dim> r = new ArrayList<>();
      for (int i = 0; i < len; i++) {
        Dim x = da.get(da.size() == 1 ? 0 : i);
        Dim y = db.get(db.size() == 1 ? 0 : i);
        r.add(
            switch (op) {
              case ADD -> x.plus(y);
              case SUB -> x.minus(y);
              case MUL -> x.times(y);
              default ->
                  x.isKnown() && y.isKnown() && y.value() != 0
                      ? Dim.of(x.value() / y.value())
                      : x.div(y);
            });
      }
      DType dt = a.dims != null ? a.dimsType : b.dimsType;
      out(0, IV.dims(r, isScalarIV(a) && isScalarIV(b), dt));
      return;
    }
    out(add(op, val(a), val(b)));
  }

  private void variadic(String op) {
    List<Value> xs = new ArrayList<>();
    for (int i = 0; i < cur.getInputCount(); i++) {
      if (!cur.getInput(i).isEmpty()) {
        xs.add(val(get(cur.getInput(i))));
      }
    }
    if (xs.isEmpty()) {
      throw new ImportException("ONNX operator " + describe() + " has no inputs");
    }
    Op f =
        switch (op) {
          case "Max" -> Op.MAXIMUM;
          case "Min" -> Op.MINIMUM;
          default -> Op.ADD;
        };
    Value acc = xs.get(0);
    for (int i = 1; i < xs.size(); i++) {
      acc = add(f, acc, xs.get(i));
    }
    if (op.equals("Mean") && xs.size() > 1) {
      acc = add(Op.DIV, acc, scalar(xs.size(), acc.type().dtype()));
    }
    out(acc);
  }

  private Value hardSigmoid(Value x, float alpha, float beta) {
    DType dt = x.type().dtype();
    Value lin = add(Op.ADD, add(Op.MUL, x, scalar(alpha, dt)), scalar(beta, dt));
    return add(Op.MAXIMUM, add(Op.MINIMUM, lin, scalar(1, dt)), scalar(0, dt));
  }

  private void clip() {
    Value x = val(need(0));
    DType dt = x.type().dtype();
    Value lo;
    Value hi;
    if (opset < 11) {
      AttributeProto mn = attr("min");
      AttributeProto mx = attr("max");
      lo = mn == null ? null : scalar(mn.getF(), dt);
      hi = mx == null ? null : scalar(mx.getF(), dt);
    } else {
      lo = in(1) == null ? null : val(in(1));
      hi = in(2) == null ? null : val(in(2));
    }
    if (lo != null) {
      x = add(Op.MAXIMUM, x, lo);
    }
    if (hi != null) {
      x = add(Op.MINIMUM, x, hi);
    }
    out(x);
  }

  private void constant() {
    AttributeProto a = cur.getAttributeCount() == 1 ? cur.getAttribute(0) : null;
    if (a == null) {
      throw new ImportException("ONNX operator " + describe() + " needs exactly one attribute");
    }
    String name = cur.getOutput(0);
    Tensor t =
        switch (a.getName()) {
          case "value" -> OnnxImporter.tensor(a.getT(), "Constant '" + name + "'", m.dir);
          case "value_float" -> Tensor.ofFloats(new long[0], new float[] {a.getF()});
          case "value_floats" -> {
            float[] f = new float[a.getFloatsCount()];
            for (int i = 0; i < f.length; i++) {
              f[i] = a.getFloats(i);
            }
            yield Tensor.ofFloats(new long[] {f.length}, f);
          }
          case "value_int" -> Tensor.ofLongs(new long[0], new long[] {a.getI()});
          case "value_ints" ->
              Tensor.ofLongs(new long[] {a.getIntsCount()}, attrInts("value_ints"));
          default -> throw unsupportedHere("attribute '" + a.getName() + "'");
        };
    out(0, IV.tensor(t, name));
  }

  private void cast() {
    IV x = need(0);
    DType to =
        OnnxImporter.dtype((int) attrInt("to", 0), "ONNX operator " + describe() + " target");
    List<Dim> d = x.dims;
    if (d != null && to.isInteger()) {
      out(0, IV.dims(d, x.scalar, to));
      return;
    }
    if (x.tensor != null
        && to.isInteger()
        && !x.tensor.isFloat()
        && x.tensor.dtype() != DType.BOOL
        && x.tensor.rank() <= 1) {
      out(0, IV.dims(dimsOf(x), x.tensor.rank() == 0, to));
      return;
    }
    Value v = val(x);
    out(v.type().dtype() == to ? v : add(Op.CAST, Attrs.of("to", to), v));
  }

  private void shape() {
    List<Dim> dims = type(need(0)).dims();
    int r = dims.size();
    long start = attrInt("start", 0);
    long end = attrInt("end", r);
    start = Math.max(0, Math.min(r, start < 0 ? start + r : start));
    end = Math.max(start, Math.min(r, end < 0 ? end + r : end));
    out(0, IV.dims(dims.subList((int) start, (int) end), false, DType.I64));
  }

  private void gemm() {
    Value a = val(need(0));
    Value b = val(need(1));
    if (attrInt("transA", 0) != 0) {
      a = add(Op.TRANSPOSE, Attrs.of("perm", new long[] {1, 0}), a);
    }
    if (attrInt("transB", 0) != 0) {
      b = add(Op.TRANSPOSE, Attrs.of("perm", new long[] {1, 0}), b);
    }
    DType dt = a.type().dtype();
    Value y = add(Op.MATMUL, a, b);
    float alpha = attrFloat("alpha", 1f);
    if (alpha != 1f) {
      y = add(Op.MUL, y, scalar(alpha, dt));
    }
    IV c = in(2);
    if (c != null) {
      Value cv = val(c);
      float beta = attrFloat("beta", 1f);
      if (beta != 1f) {
        cv = add(Op.MUL, cv, scalar(beta, dt));
      }
      y = add(Op.ADD, y, cv);
    }
    out(y);
  }

  private void reshapeOp() {
    IV x = need(0);
    List<Dim> target;
    if (opset < 5) {
      long[] s = attrInts("shape");
      if (s == null) {
        throw new ImportException("ONNX operator " + describe() + " has no shape");
      }
      target = new ArrayList<>();
      for (long v : s) {
        target.add(Dim.of(v));
      }
    } else {
      target = dimsOf(need(1));
      if (target == null) {
        throw unsupportedHere("a target shape computed at run time (not from Shape and constants)");
      }
    }
    List<Dim> in = type(x).dims();
    boolean allowZero = attrInt("allowzero", 0) != 0;
    List<Dim> dims = new ArrayList<>();
    int infer = -1;
    for (int i = 0; i < target.size(); i++) {
      Dim d = target.get(i);
      if (d.isKnown() && d.value() == 0 && !allowZero) {
        if (i >= in.size()) {
          throw new ImportException(
              "ONNX operator " + describe() + ": 0 at position " + i + " copies no input dim");
        }
        dims.add(in.get(i));
      } else if (d.isKnown() && d.value() == -1) {
        if (infer >= 0) {
          throw new ImportException(
              "ONNX operator " + describe() + ": more than one -1 in the target shape");
        }
        infer = i;
        dims.add(null);
      } else if (d.isKnown() && d.value() < 0) {
        throw new ImportException("ONNX operator " + describe() + ": negative size " + d.value());
      } else {
        dims.add(d);
      }
    }
    if (infer >= 0) {
      List<Dim> rest = new ArrayList<>(dims);
      rest.remove(infer);
      Dim total = product(in);
      Dim others = product(rest);
      if (total.isUnknown() || others.isUnknown()) {
        throw unsupportedHere("inferring -1 when the input shape " + in + " is not fully known");
      }
      Dim inferred =
          total.isKnown() && others.isKnown() && others.value() != 0
              ? Dim.of(total.value() / others.value())
              : total.div(others);
      dims.set(infer, inferred);
    }
    noUnknown(dims, "target shape");
    if (x.dims != null && dims.size() <= 1 && product(dims).equals(Dim.of(x.dims.size()))) {
      out(0, IV.dims(x.dims, dims.isEmpty(), x.dimsType));
      return;
    }
    out(reshape(val(x), dims));
  }

  private void concat() {
    List<IV> parts = new ArrayList<>();
    for (String name : cur.getInputList()) {
      if (!name.isEmpty()) {
        parts.add(get(name));
      }
    }
    boolean fold = false;
    boolean all = true;
    for (IV p : parts) {
      fold |= p.dims != null;
      all &= dimsOf(p) != null && !isScalarIV(p);
    }
    if (fold && all) {
      List<Dim> r = new ArrayList<>();
      DType dt = null;
      for (IV p : parts) {
        r.addAll(dimsOf(p));
        dt = dt != null ? dt : p.dims != null ? p.dimsType : p.tensor.dtype();
      }
      out(0, IV.dims(r, false, dt));
      return;
    }
    List<Value> vs = new ArrayList<>();
    for (IV p : parts) {
      vs.add(val(p));
    }
    int ax = axis(attrInt("axis", 0), vs.get(0).type().rank());
    out(g.add(Op.CONCAT, Attrs.of("axis", ax), vs, loc).out());
  }

  private void split() {
    Value x = val(need(0));
    int r = x.type().rank();
    int ax = axis(attrInt("axis", 0), r);
    long[] sizes =
        opset < 13 ? attrInts("split") : in(1) == null ? null : constInts(in(1), "split sizes");
    List<Dim> dims = new ArrayList<>();
    if (sizes != null && sizes.length > 0) {
      for (long s : sizes) {
        dims.add(Dim.of(s));
      }
    } else {
      int k = cur.getOutputCount();
      if (attr("num_outputs") != null) {
        k = (int) attrInt("num_outputs", k);
      }
      Dim d = x.type().dim(ax);
      if (d.isKnown()) {
        long part = (d.value() + k - 1) / k;
        for (int i = 0; i < k; i++) {
          dims.add(Dim.of(Math.max(0, Math.min(part, d.value() - part * i))));
        }
      } else {
        for (int i = 0; i < k; i++) {
          dims.add(d.div(Dim.of(k)));
        }
      }
    }
    Node s = g.add(Op.SPLIT, Attrs.of("axis", ax, "sizes", List.copyOf(dims)), List.of(x), loc);
    for (int i = 0; i < dims.size(); i++) {
      out(i, IV.of(s.out(i)));
    }
  }

  private void slice() {
    IV xv = need(0);
    long[] starts;
    long[] ends;
    long[] axes;
    long[] steps = null;
    if (opset < 10) {
      starts = attrInts("starts");
      ends = attrInts("ends");
      axes = attrInts("axes");
    } else {
      starts = constInts(need(1), "slice start");
      ends = constInts(need(2), "slice end");
      axes = in(3) == null ? null : constInts(in(3), "slice axes");
      steps = in(4) == null ? null : constInts(in(4), "slice steps");
    }
    TensorType t = type(xv);
    int r = t.rank();
    if (axes == null) {
      axes = new long[starts.length];
      for (int i = 0; i < axes.length; i++) {
        axes[i] = i;
      }
    }
    if (steps != null) {
      for (long s : steps) {
        if (s != 1) {
          throw unsupportedHere("a step other than 1 (" + Arrays.toString(steps) + ")");
        }
      }
    }
    if (xv.dims != null && !xv.scalar && axes.length == 1 && axis(axes[0], 1) == 0) {
      int size = xv.dims.size();
      int s = (int) clampKnown(starts[0], size);
      int e = (int) Math.max(s, clampKnown(ends[0], size));
      out(0, IV.dims(xv.dims.subList(s, e), false, xv.dimsType));
      return;
    }
    Value x = val(xv);
    for (int i = 0; i < axes.length; i++) {
      int ax = axis(axes[i], r);
      Dim size = x.type().dim(ax);
      Dim s = bound(starts[i], size);
      Dim e = bound(ends[i], size);
      if (s.equals(Dim.of(0)) && e.equals(size)) {
        continue;
      }
      x = add(Op.SLICE, Attrs.of("axis", ax, "start", s, "end", e), x);
    }
    out(x);
  }

  private static long clampKnown(long v, long size) {
    long x = v < 0 ? v + size : v;
    return Math.max(0, Math.min(size, x));
  }

  /** A slice bound as a dim: clamped when the size is known, else relative to the symbolic size. */
  private Dim bound(long v, Dim size) {
    if (size.isKnown()) {
      return Dim.of(clampKnown(v, size.value()));
    }
    if (size.isUnknown()) {
      if (v >= 0 && v < BIG) {
        return Dim.of(v);
      }
      throw unsupportedHere("slicing an axis of unknown size from the end");
    }
    if (v >= BIG) {
      return size;
    }
    if (v < 0) {
      return size.plus(Dim.of(v));
    }
    return Dim.of(v);
  }

  private long[] axesInput(int index) {
    if (opset < 13) {
      return attrInts("axes");
    }
    IV a = in(index);
    return a == null ? null : constInts(a, "axes");
  }

  private void squeeze() {
    IV xv = need(0);
    long[] axes = axesInput(1);
    if (xv.dims != null
        && !xv.scalar
        && xv.dims.size() == 1
        && (axes == null || axes.length == 1)) {
      out(0, IV.dims(xv.dims, true, xv.dimsType));
      return;
    }
    Value x = val(xv);
    int r = x.type().rank();
    List<Integer> list = new ArrayList<>();
    if (axes == null || axes.length == 0) {
      for (int i = 0; i < r; i++) {
        Dim d = x.type().dim(i);
        if (!d.isKnown()) {
          continue;
        }
        if (d.value() == 1) {
          list.add(i);
        }
      }
    } else {
      for (long a : axes) {
        list.add(axis(a, r));
      }
    }
    list.sort((p, q) -> Integer.compare(q, p));
    for (int a : list) {
      x = add(Op.SQUEEZE, Attrs.of("axis", a), x);
    }
    out(x);
  }

  private void unsqueeze() {
    IV xv = need(0);
    long[] axes = axesInput(1);
    if (axes == null) {
      throw new ImportException("ONNX operator " + describe() + " has no axes");
    }
    if (xv.dims != null && xv.scalar && axes.length == 1 && (axes[0] == 0 || axes[0] == -1)) {
      out(0, IV.dims(xv.dims, false, xv.dimsType));
      return;
    }
    if (xv.tensor != null
        && xv.tensor.rank() == 0
        && !xv.tensor.isFloat()
        && axes.length == 1
        && (axes[0] == 0 || axes[0] == -1)) {
      out(0, IV.dims(dimsOf(xv), false, xv.tensor.dtype()));
      return;
    }
    Value x = val(xv);
    int r = x.type().rank() + axes.length;
    List<Integer> list = new ArrayList<>();
    for (long a : axes) {
      list.add(axis(a, r));
    }
    list.sort(Integer::compare);
    for (int a : list) {
      x = add(Op.UNSQUEEZE, Attrs.of("axis", a), x);
    }
    out(x);
  }

  private void gather() {
    IV data = need(0);
    IV idx = need(1);
    TensorType dt = type(data);
    int ax = axis(attrInt("axis", 0), dt.rank());
    List<Dim> dd = data.dims;
    List<Dim> di = dimsOf(idx);
    if (dd != null && di != null && !data.scalar) {
      List<Dim> r = new ArrayList<>();
      for (Dim i : di) {
        if (!i.isKnown()) {
          throw unsupportedHere("a symbolic index");
        }
        long k = i.value() < 0 ? i.value() + dd.size() : i.value();
        if (k < 0 || k >= dd.size()) {
          throw new ImportException(
              "ONNX operator " + describe() + ": index " + i + " out of range");
        }
        r.add(dd.get((int) k));
      }
      out(0, IV.dims(r, isScalarIV(idx), data.dimsType));
      return;
    }
    Value ids;
    if (idx.tensor != null && !idx.tensor.isFloat() && dt.dim(ax).isKnown()) {
      long size = dt.dim(ax).value();
      long[] l = idx.tensor.longs().clone();
      for (int i = 0; i < l.length; i++) {
        l[i] = l[i] < 0 ? l[i] + size : l[i];
      }
      ids = g.addConst(Tensor.ofLongs(idx.tensor.dtype(), idx.tensor.shape(), l), loc);
    } else {
      ids = val(idx);
      if (dt.dim(ax).isKnown() && ids.type().dtype().isInteger()) {
        // ONNX counts negative indices from the end
        DType it = ids.type().dtype();
        ids =
            add(
                Op.WHERE,
                add(Op.LESS, ids, scalar(0, it)),
                add(Op.ADD, ids, scalar(dt.dim(ax).value(), it)),
                ids);
      }
    }
    Value x = val(data);
    int r = dt.rank();
    if (ax == 0) {
      out(add(Op.TAKE, x, ids));
      return;
    }
    long[] front = new long[r];
    front[0] = ax;
    for (int i = 0, j = 1; i < r; i++) {
      if (i != ax) {
        front[j++] = i;
      }
    }
    Value taken = add(Op.TAKE, add(Op.TRANSPOSE, Attrs.of("perm", front), x), ids);
    // taken: [idx..., d0..d(ax-1), d(ax+1)...] -> [d0..d(ax-1), idx..., d(ax+1)...]
    int q = ids.type().rank();
    long[] perm = new long[taken.type().rank()];
    int k = 0;
    for (int i = 0; i < ax; i++) {
      perm[k++] = q + i;
    }
    for (int i = 0; i < q; i++) {
      perm[k++] = i;
    }
    for (int i = q + ax; i < perm.length; i++) {
      perm[k++] = i;
    }
    out(add(Op.TRANSPOSE, Attrs.of("perm", perm), taken));
  }

  private void reduce(String op) {
    Value x = val(need(0));
    int r = x.type().rank();
    long[] axes = attrInts("axes");
    boolean axesInput = op.equals("ReduceSum") ? opset >= 13 : opset >= 18;
    if (axesInput) {
      axes = in(1) == null ? null : constInts(in(1), "axes");
    }
    boolean keep = attrInt("keepdims", 1) != 0;
    if (axes == null || axes.length == 0) {
      if (attrInt("noop_with_empty_axes", 0) != 0) {
        out(x);
        return;
      }
      axes = new long[r];
      for (int i = 0; i < r; i++) {
        axes[i] = i;
      }
    }
    Op ir =
        switch (op) {
          case "ReduceSum" -> Op.REDUCE_SUM;
          case "ReduceMean" -> Op.REDUCE_MEAN;
          case "ReduceMax" -> Op.REDUCE_MAX;
          default -> Op.REDUCE_MIN;
        };
    List<Integer> list = new ArrayList<>();
    for (long a : axes) {
      int ax = axis(a, r);
      if (!list.contains(ax)) {
        list.add(ax);
      }
    }
    list.sort((p, q) -> Integer.compare(q, p));
    for (int a : list) {
      x = add(ir, Attrs.of("axis", a, "keep", keep), x);
    }
    out(x);
  }

  private void argmax(boolean min) {
    Value x = val(need(0));
    if (attrInt("select_last_index", 0) != 0) {
      throw unsupportedHere("select_last_index = 1");
    }
    int ax = axis(attrInt("axis", 0), x.type().rank());
    if (min) {
      x = add(Op.NEG, x);
    }
    out(add(Op.ARGMAX, Attrs.of("axis", ax, "keep", attrInt("keepdims", 1) != 0), x));
  }

  private void softmax(boolean log) {
    Value x = val(need(0));
    int r = x.type().rank();
    Op op = log ? Op.LOG_SOFTMAX : Op.SOFTMAX;
    if (opset >= 13) {
      out(add(op, Attrs.of("axis", axis(attrInt("axis", -1), r)), x));
      return;
    }
    int ax = axis(attrInt("axis", 1), r);
    if (ax == r - 1) {
      out(add(op, Attrs.of("axis", ax), x));
      return;
    }
    List<Dim> dims = x.type().dims();
    Value flat = reshape(x, List.of(product(dims.subList(0, ax)), product(dims.subList(ax, r))));
    out(reshape(add(op, Attrs.of("axis", 1), flat), dims));
  }

  private void layerNorm() {
    onlyFirstOutput();
    Value x = val(need(0));
    int r = x.type().rank();
    int ax = axis(attrInt("axis", -1), r);
    DType dt = x.type().dtype();
    List<Dim> dims = x.type().dims();
    Dim width = product(dims.subList(ax, r));
    Value gamma = val(need(1));
    Value beta = in(2) == null ? null : val(in(2));
    if (ax != r - 1) {
      List<Dim> flat = new ArrayList<>(dims.subList(0, ax));
      flat.add(width);
      x = reshape(x, flat);
    }
    gamma = reshape(gamma, List.of(width));
    beta =
        beta == null
            ? add(Op.BROADCAST, Attrs.of("dims", List.of(width)), scalar(0, dt))
            : reshape(beta, List.of(width));
    Value y =
        add(Op.LAYER_NORM, Attrs.of("eps", (double) attrFloat("epsilon", 1e-5f)), x, gamma, beta);
    out(reshape(y, dims));
  }

  private void batchNorm() {
    onlyFirstOutput();
    if (attrInt("training_mode", 0) != 0) {
      throw unsupportedHere("training_mode = 1");
    }
    Value x = val(need(0));
    int r = x.type().rank();
    if (r < 2) {
      throw new ShapeException("BatchNormalization needs [N, C, ...], got " + x.type());
    }
    DType dt = x.type().dtype();
    List<Dim> shape = new ArrayList<>();
    shape.add(x.type().dim(1));
    shape.addAll(ones(r - 2));
    Value scale = reshape(val(need(1)), shape);
    Value bias = reshape(val(need(2)), shape);
    Value mean = reshape(val(need(3)), shape);
    Value var = reshape(val(need(4)), shape);
    Value eps = scalar(attrFloat("epsilon", 1e-5f), dt);
    Value mul = add(Op.DIV, scale, add(Op.SQRT, add(Op.ADD, var, eps)));
    out(add(Op.ADD, add(Op.MUL, add(Op.SUB, x, mean), mul), bias));
  }

  /** Begin and end pads of every spatial axis, resolving auto_pad (SAME_* needs known sizes). */
  private long[] pads(TensorType x, long[] kernel, long[] strides, long[] dil) {
    int sp = kernel.length;
    String auto = attrString("auto_pad", "NOTSET");
    long[] pads = attrInts("pads");
    if (auto.equals("NOTSET") || auto.isEmpty()) {
      return pads == null ? new long[2 * sp] : pads;
    }
    if (auto.equals("VALID")) {
      return new long[2 * sp];
    }
    long[] out = new long[2 * sp];
    for (int i = 0; i < sp; i++) {
      Dim d = x.dim(2 + i);
      if (!d.isKnown()) {
        throw unsupportedHere("auto_pad " + auto + " on an axis of size " + d);
      }
      long in = d.value();
      long o = (in + strides[i] - 1) / strides[i];
      long total = Math.max(0, (o - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - in);
      long small = total / 2;
      boolean upper = auto.equals("SAME_UPPER");
      out[i] = upper ? small : total - small;
      out[sp + i] = upper ? total - small : small;
    }
    return out;
  }

  private static long[] filled(int n, long v) {
    long[] a = new long[n];
    Arrays.fill(a, v);
    return a;
  }

  private static boolean allEqual(long[] a, long v) {
    for (long x : a) {
      if (x != v) {
        return false;
      }
    }
    return true;
  }

  private void conv() {
    Value x = val(need(0));
    Value w = val(need(1));
    Value b = in(2) == null ? null : val(in(2));
    int sp = x.type().rank() - 2;
    if (sp != 1 && sp != 2) {
      throw unsupportedHere(sp + "-D convolution");
    }
    long[] kernel = new long[sp];
    for (int i = 0; i < sp; i++) {
      Dim k = w.type().dim(2 + i);
      if (!k.isKnown()) {
        throw unsupportedHere("a kernel of unknown size");
      }
      kernel[i] = k.value();
    }
    long[] strides = attrInts("strides") == null ? filled(sp, 1) : attrInts("strides");
    long[] dil = attrInts("dilations") == null ? filled(sp, 1) : attrInts("dilations");
    long group = attrInt("group", 1);
    long[] pads = pads(x.type(), kernel, strides, dil);
    Attrs a;
    if (group == 1
        && allEqual(dil, 1)
        && allEqual(strides, strides[0])
        && allEqual(pads, pads[0])) {
      a = Attrs.of("stride", strides[0], "padding", pads[0]);
    } else {
      a =
          Attrs.of(
              "stride",
              strides[0],
              "padding",
              pads[0],
              "strides",
              strides,
              "pads",
              pads,
              "dilations",
              dil,
              "groups",
              group);
    }
    Op op = sp == 1 ? Op.CONV1D : Op.CONV2D;
    out(b == null ? add(op, a, x, w) : add(op, a, x, w, b));
  }

  private void pool(boolean max) {
    if (max) {
      onlyFirstOutput();
    }
    Value x = val(need(0));
    if (x.type().rank() != 4) {
      throw unsupportedHere(
          "pooling of a rank-"
              + x.type().rank()
              + " tensor (only 2-D pooling over [N, C, H, W] is)");
    }
    long[] kernel = attrInts("kernel_shape");
    if (kernel == null || kernel.length != 2) {
      throw new ImportException("ONNX operator " + describe() + " needs a 2-D kernel_shape");
    }
    if (attrInt("ceil_mode", 0) != 0) {
      throw unsupportedHere("ceil_mode = 1");
    }
    long[] dil = attrInts("dilations");
    if (dil != null && !allEqual(dil, 1)) {
      throw unsupportedHere("dilations " + Arrays.toString(dil));
    }
    long[] strides = attrInts("strides") == null ? filled(2, 1) : attrInts("strides");
    long[] pads = pads(x.type(), kernel, strides, filled(2, 1));
    boolean includePad = attrInt("count_include_pad", 0) != 0;
    Attrs a;
    if (kernel[0] == kernel[1] && strides[0] == strides[1] && allEqual(pads, 0)) {
      a = Attrs.of("kernel", kernel[0], "stride", strides[0]);
    } else {
      a =
          Attrs.of(
              "kernel",
              kernel[0],
              "stride",
              strides[0],
              "kernels",
              kernel,
              "strides",
              strides,
              "pads",
              pads);
      if (!max) {
        a = a.with("count_include_pad", includePad);
      }
    }
    out(add(max ? Op.MAX_POOL2D : Op.AVG_POOL2D, a, x));
  }

  private void topk() {
    Value x = val(need(0));
    long k;
    if (opset < 10) {
      k = attrInt("k", -1);
    } else {
      long[] ks = constInts(need(1), "k");
      if (ks.length != 1) {
        throw new ImportException("ONNX operator " + describe() + ": k must have one element");
      }
      k = ks[0];
    }
    if (attrInt("largest", 1) != 1 || attrInt("sorted", 1) != 1) {
      throw unsupportedHere("largest = 0 or sorted = 0");
    }
    int ax = axis(attrInt("axis", -1), x.type().rank());
    Node n = g.add(Op.TOPK, Attrs.of("axis", ax, "k", k), List.of(x), loc);
    out(0, IV.of(n.out(0)));
    out(1, IV.of(n.out(1)));
  }

  /** Largest constant the importer computes at import time (elements). */
  static final long MAX_FOLDED = 1L << 20;

  private void constantOfShape() {
    List<Dim> dims = dimsOf(need(0));
    if (dims == null) {
      throw unsupportedHere("a shape computed at run time");
    }
    AttributeProto v = attr("value");
    Tensor fill =
        v == null
            ? Tensor.ofFloats(new long[] {1}, new float[] {0})
            : OnnxImporter.tensor(v.getT(), "ConstantOfShape value", m.dir);
    boolean known = true;
    for (Dim d : dims) {
      known &= d.isKnown();
    }
    long count = 1;
    for (Dim d : dims) {
      if (d.isKnown()) {
        if (d.value() < 0) {
          throw new ImportException("ConstantOfShape: negative dim " + d.value() + " in " + dims);
        }
        count =
            d.value() == 0 || count == 0
                ? 0
                : count > MAX_FOLDED / d.value() ? MAX_FOLDED + 1 : count * d.value();
      }
    }
    // a small constant is folded (shape computations need its values); a large one stays a
    // broadcast that ONNX Runtime fills at run time, so no memory is taken at import
    if (known && count <= MAX_FOLDED) {
      long[] shape = new long[dims.size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = dims.get(i).value();
      }
      int n = Math.toIntExact(Tensor.numel(shape));
      Tensor t;
      if (fill.isFloat()) {
        float[] f = new float[n];
        Arrays.fill(f, fill.floats()[0]);
        t = Tensor.ofFloats(fill.dtype(), shape, f);
      } else {
        long[] l = new long[n];
        Arrays.fill(l, fill.longs()[0]);
        t = Tensor.ofLongs(fill.dtype(), shape, l);
      }
      out(
          0,
          fill.dtype().isInteger() && shape.length <= 1
              ? IV.dims(dimsOf(IV.tensor(t, null)), shape.length == 0, fill.dtype())
              : IV.tensor(t, null));
      return;
    }
    noUnknown(dims, "shape");
    Value s = g.addConst(fill.reshape(new long[0]), loc);
    out(add(Op.BROADCAST, Attrs.of("dims", List.copyOf(dims)), s));
  }
}
