package dev.cmod.ir.interp;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.graph.WindowGeometry;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reference interpreter: evaluates any IR graph in plain Java. Inputs are checked against their
 * declared types first; symbolic dims are bound from the input shapes and then used to evaluate
 * dim-valued attributes (reshape targets, slice bounds, split sizes) at run time. After every node
 * the computed shape is checked against the node's inferred type.
 */
public final class Interpreter {
  private final Graph graph;
  private final Map<String, Long> symbols = new LinkedHashMap<>();
  private final Map<String, String> symbolOrigin = new HashMap<>();

  private Interpreter(Graph graph) {
    this.graph = graph;
  }

  /**
   * Runs {@code g} on the given inputs (by input name) and returns every model output by name, in
   * the graph's output order.
   *
   * @throws InterpreterException when an input is missing or unknown, has the wrong dtype or a
   *     shape that does not match its declared type (symbols bound consistently across inputs), or
   *     when evaluation fails on the given values (an id out of range, say)
   */
  public static Map<String, Tensor> run(Graph g, Map<String, Tensor> inputs) {
    Interpreter in = new Interpreter(g);
    Map<String, Tensor> given = inputs == null ? Map.of() : inputs;
    in.bind(given);
    return in.execute(given);
  }

  /**
   * Checks {@code inputs} against the declared input types of {@code g} and returns the value of
   * every symbol they bind, in binding order.
   *
   * @throws InterpreterException as {@link #run}
   */
  public static Map<String, Long> bindSymbols(Graph g, Map<String, Tensor> inputs) {
    Interpreter in = new Interpreter(g);
    in.bind(inputs == null ? Map.of() : inputs);
    return new LinkedHashMap<>(in.symbols);
  }

  // ---------------------------------------------------------------- input validation

  private static String inputName(Node n) {
    return n.attrs().getString("name");
  }

  private static boolean isPlainSymbol(Dim d) {
    Set<String> s = d.symbols();
    return s.size() == 1 && d.toString().equals(s.iterator().next());
  }

  private void bind(Map<String, Tensor> given) {
    Set<String> declared = new LinkedHashSet<>();
    for (Node in : graph.inputs()) {
      declared.add(inputName(in));
    }
    for (String k : given.keySet()) {
      if (!declared.contains(k)) {
        throw new InterpreterException(
            "unknown input '"
                + k
                + "' (the model's inputs are "
                + (declared.isEmpty() ? "none" : "'" + String.join("', '", declared) + "'")
                + ")");
      }
    }
    // 1. dtype, rank, constant dims; dims that are a bare symbol bind it
    for (Node in : graph.inputs()) {
      String name = inputName(in);
      TensorType t = in.type();
      Tensor x = given.get(name);
      if (x == null) {
        throw new InterpreterException("missing input '" + name + "' of type " + t);
      }
      if (x.dtype() != t.dtype()) {
        throw new InterpreterException(
            "input '"
                + name
                + "': expected "
                + t
                + " but got a tensor of "
                + x.dtype()
                + Arrays.toString(x.shape()));
      }
      if (x.rank() != t.rank()) {
        throw new InterpreterException(
            "input '"
                + name
                + "': expected rank "
                + t.rank()
                + " ("
                + t
                + ") but got shape "
                + Arrays.toString(x.shape()));
      }
      for (int axis = 0; axis < t.rank(); axis++) {
        Dim d = t.dim(axis);
        long size = x.dim(axis);
        if (d.isKnown()) {
          if (d.value() != size) {
            throw new InterpreterException(
                "input '"
                    + name
                    + "': axis "
                    + axis
                    + " has size "
                    + size
                    + " but must be "
                    + d.value()
                    + " (declared "
                    + t
                    + ")");
          }
        } else if (isPlainSymbol(d)) {
          String s = d.toString();
          Long prev = symbols.get(s);
          if (prev == null) {
            symbols.put(s, size);
            symbolOrigin.put(s, "input '" + name + "' axis " + axis);
          } else if (prev != size) {
            throw new InterpreterException(
                "input '"
                    + name
                    + "': axis "
                    + axis
                    + " has size "
                    + size
                    + " but '"
                    + s
                    + "' is "
                    + prev
                    + " (from "
                    + symbolOrigin.get(s)
                    + ")");
          }
        }
      }
    }
    // 2a. a symbol the graph says comes from an axis declared unknown (_) takes that axis's size
    for (Map.Entry<String, Graph.SymbolSource> e : graph.symbols().entrySet()) {
      Graph.SymbolSource src = e.getValue();
      Tensor x = given.get(src.input());
      Node decl = null;
      for (Node in : graph.inputs()) {
        if (inputName(in).equals(src.input())) {
          decl = in;
        }
      }
      if (!symbols.containsKey(e.getKey())
          && x != null
          && decl != null
          && src.axis() >= 0
          && src.axis() < x.rank()
          && decl.type().dim(src.axis()).isUnknown()) {
        symbols.put(e.getKey(), x.dim(src.axis()));
        symbolOrigin.put(e.getKey(), "input '" + src.input() + "' axis " + src.axis());
      }
    }
    // 2b. a dim like seq+16 whose only unbound symbol enters linearly determines that symbol
    boolean progress = true;
    while (progress) {
      progress = false;
      for (Node in : graph.inputs()) {
        TensorType t = in.type();
        Tensor x = given.get(inputName(in));
        for (int axis = 0; axis < t.rank(); axis++) {
          Dim d = t.dim(axis);
          if (d.isUnknown() || d.isKnown()) {
            continue;
          }
          List<String> free = new ArrayList<>();
          for (String s : d.symbols()) {
            if (!symbols.containsKey(s)) {
              free.add(s);
            }
          }
          if (free.size() == 1 && solve(d, free.get(0), x.dim(axis))) {
            symbolOrigin.put(free.get(0), "input '" + inputName(in) + "' axis " + axis);
            progress = true;
          }
        }
      }
    }
    // 3. every other symbolic dim must evaluate to the actual size
    for (Node in : graph.inputs()) {
      String name = inputName(in);
      TensorType t = in.type();
      Tensor x = given.get(name);
      for (int axis = 0; axis < t.rank(); axis++) {
        Dim d = t.dim(axis);
        if (d.isUnknown()
            || d.isKnown()
            || isPlainSymbol(d)
            || !symbols.keySet().containsAll(d.symbols())) {
          continue;
        }
        long want;
        try {
          want = d.eval(symbols::get);
        } catch (ArithmeticException e) {
          throw new InterpreterException(
              "input '"
                  + name
                  + "': axis "
                  + axis
                  + " is declared as "
                  + d
                  + ", which cannot be evaluated with "
                  + bindingsOf(d)
                  + ": "
                  + e.getMessage());
        }
        if (want != x.dim(axis)) {
          throw new InterpreterException(
              "input '"
                  + name
                  + "': axis "
                  + axis
                  + " has size "
                  + x.dim(axis)
                  + " but is declared as "
                  + d
                  + " = "
                  + want
                  + " ("
                  + bindingsOf(d)
                  + ")");
        }
      }
    }
  }

  /**
   * Binds {@code sym} so that {@code d} evaluates to {@code size}, if a non-negative integer does.
   */
  private boolean solve(Dim d, String sym, long size) {
    try {
      long f0 = evalWith(d, sym, 0);
      long f1 = evalWith(d, sym, 1);
      long slope = f1 - f0;
      if (slope == 0 || (size - f0) % slope != 0) {
        return false;
      }
      long v = (size - f0) / slope;
      if (v < 0 || evalWith(d, sym, v) != size || evalWith(d, sym, 2) != f0 + 2 * slope) {
        return false;
      }
      symbols.put(sym, v);
      return true;
    } catch (ArithmeticException e) {
      return false;
    }
  }

  private long evalWith(Dim d, String sym, long v) {
    return d.eval(s -> s.equals(sym) ? v : symbols.get(s));
  }

  private String bindingsOf(Dim d) {
    StringBuilder sb = new StringBuilder();
    for (String s : d.symbols()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(s).append(" = ").append(symbols.get(s));
      String from = symbolOrigin.get(s);
      if (from != null) {
        sb.append(" from ").append(from);
      }
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------- evaluation

  private Map<String, Tensor> execute(Map<String, Tensor> given) {
    Map<Node, Tensor[]> values = new HashMap<>();
    for (Node n : graph.nodes()) {
      Tensor[] args;
      if (n.op().isLeaf()) {
        args = new Tensor[0];
      } else {
        List<Value> ops = graph.operands(n);
        args = new Tensor[ops.size()];
        for (int i = 0; i < args.length; i++) {
          args[i] = values.get(ops.get(i).node())[ops.get(i).index()];
        }
      }
      Tensor[] out;
      try {
        out = eval(n, args, given);
      } catch (InterpreterException e) {
        throw new InterpreterException((n.loc() != null ? n.loc() + ": " : "") + e.getMessage());
      }
      checkTypes(n, out);
      values.put(n, out);
    }
    Map<String, Tensor> result = new LinkedHashMap<>();
    for (Map.Entry<String, Value> o : graph.outputs().entrySet()) {
      Value v = o.getValue();
      Tensor[] t = values.get(v.node());
      if (t == null) {
        throw new IllegalStateException(
            "output '" + o.getKey() + "' is " + v + ", which is not in the graph");
      }
      // leaves hand out shared tensors (inputs, parameters): give the caller its own copy
      result.put(o.getKey(), v.node().op().isLeaf() ? Kernels.copy(t[v.index()]) : t[v.index()]);
    }
    return result;
  }

  private Tensor[] eval(Node n, Tensor[] x, Map<String, Tensor> given) {
    Op op = n.op();
    Attrs a = n.attrs();
    if (op.isElementwiseBinary()) {
      return one(Kernels.binary(op, x[0], x[1]));
    }
    if (op.isElementwiseUnary()) {
      return one(Kernels.unary(op, a.getString("approx", "none"), x[0]));
    }
    return switch (op) {
      case INPUT -> one(given.get(a.getString("name")));
      case PARAM, CONST -> one(a.getTensor("value"));
      case WHERE -> one(Kernels.where(x[0], x[1], x[2]));
      case MATMUL -> one(Kernels.matmul(x[0], x[1]));
      case RESHAPE -> one(Kernels.reshape(x[0], dims(a.getDims("dims"), "reshape")));
      case TRANSPOSE -> one(Kernels.transpose(x[0], a.getLongs("perm")));
      case CONCAT -> one(Kernels.concat(a.getInt("axis"), x));
      case SPLIT -> Kernels.split(x[0], a.getInt("axis"), dims(a.getDims("sizes"), "split"));
      case SLICE -> one(slice(n, x[0]));
      case UNSQUEEZE -> one(Kernels.unsqueeze(x[0], a.getInt("axis")));
      case SQUEEZE -> one(Kernels.squeeze(x[0], a.getInt("axis")));
      case BROADCAST -> one(Kernels.broadcastTo(x[0], dims(a.getDims("dims"), "broadcast")));
      case REDUCE_SUM, REDUCE_MEAN, REDUCE_MAX, REDUCE_MIN, ARGMAX ->
          one(Kernels.reduce(op, x[0], a.getInt("axis"), a.getBool("keep", false)));
      case SOFTMAX, LOG_SOFTMAX ->
          one(Kernels.softmax(x[0], a.getInt("axis"), op == Op.LOG_SOFTMAX));
      case LAYER_NORM -> one(Kernels.layerNorm(x[0], x[1], x[2], eps(a)));
      case RMS_NORM -> one(Kernels.rmsNorm(x[0], x[1], eps(a)));
      case ATTENTION ->
          one(
              Kernels.attention(
                  x[0],
                  x[1],
                  x[2],
                  x.length > 3 ? x[3] : null,
                  a.getBool("causal", false),
                  a.has("causal_offset") ? a.getLong("causal_offset") : 0));
      case CONV1D, CONV2D ->
          one(
              WindowGeometry.isPlain(a)
                  ? Kernels.conv(
                      x[0],
                      x[1],
                      x.length > 2 ? x[2] : null,
                      a.getInt("stride"),
                      a.getInt("padding"),
                      op == Op.CONV1D)
                  : Kernels.convGeneral(
                      x[0],
                      x[1],
                      x.length > 2 ? x[2] : null,
                      WindowGeometry.of(a, op == Op.CONV1D ? 1 : 2, false)));
      case AVG_POOL2D, MAX_POOL2D ->
          one(
              WindowGeometry.isPlain(a)
                  ? Kernels.pool(x[0], a.getInt("kernel"), a.getInt("stride"), op == Op.MAX_POOL2D)
                  : Kernels.poolGeneral(x[0], WindowGeometry.of(a, 2, true), op == Op.MAX_POOL2D));
      case UPSAMPLE -> one(Kernels.upsample(x[0], a.getInt("factor")));
      case PATCHIFY -> one(Kernels.patchify(x[0], a.getInt("patch")));
      case TAKE -> one(Kernels.take(x[0], x[1]));
      case ONE_HOT -> one(Kernels.oneHot(x[0], a.getInt("n")));
      case COSINE -> one(Kernels.cosine(x[0], x[1], a.getInt("axis")));
      case TOPK -> Kernels.topk(x[0], a.getInt("axis"), a.getLong("k"));
      case CAST -> one(Kernels.cast(x[0], a.getDType("to")));
      case ROUTE -> one(route(x));
      default -> throw new IllegalStateException("the interpreter has no rule for " + op.text());
    };
  }

  /** The route op's dense meaning, {@code Σ_e y_e · gates[..., e:e+1]}, in the lowering's order. */
  private static Tensor route(Tensor[] x) {
    int gl = x[0].rank() - 1;
    Tensor acc = null;
    for (int e = 1; e < x.length; e++) {
      Tensor term = Kernels.binary(Op.MUL, x[e], Kernels.narrow(x[0], gl, e - 1, 1));
      acc = acc == null ? term : Kernels.binary(Op.ADD, acc, term);
    }
    return acc;
  }

  private static Tensor[] one(Tensor t) {
    return new Tensor[] {t};
  }

  private static double eps(Attrs a) {
    return a.has("eps") ? a.getDouble("eps") : 1e-5;
  }

  private Tensor slice(Node n, Tensor x) {
    Attrs a = n.attrs();
    int axis = a.getInt("axis");
    long size = x.dim(axis);
    long start = Math.max(0, Math.min(size, dim(a.getDim("start"), "slice")));
    long end = Math.max(start, Math.min(size, dim(a.getDim("end"), "slice")));
    Long declared = tryEval(n.type().dim(axis));
    if (declared != null && declared != end - start) {
      throw new InterpreterException(
          "slice: range ["
              + a.getDim("start")
              + ", "
              + a.getDim("end")
              + ") = ["
              + dim(a.getDim("start"), "slice")
              + ", "
              + dim(a.getDim("end"), "slice")
              + ") is out of bounds for axis "
              + axis
              + " of size "
              + size);
    }
    return Kernels.narrow(x, axis, (int) start, (int) (end - start));
  }

  /** The runtime value of a dim attribute. */
  private long dim(Dim d, String op) {
    if (d.isUnknown()) {
      throw new InterpreterException(op + ": a size is unknown (_) and cannot be evaluated");
    }
    for (String s : d.symbols()) {
      if (!symbols.containsKey(s)) {
        throw new InterpreterException(
            op + ": size " + d + " uses '" + s + "', which no input binds");
      }
    }
    try {
      return d.eval(symbols::get);
    } catch (ArithmeticException e) {
      throw new InterpreterException(
          op + ": size " + d + " cannot be evaluated: " + e.getMessage());
    }
  }

  private long[] dims(List<Dim> ds, String op) {
    long[] out = new long[ds.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = dim(ds.get(i), op);
      if (out[i] < 0) {
        throw new InterpreterException(op + ": size " + ds.get(i) + " evaluates to " + out[i]);
      }
    }
    return out;
  }

  /** The value of {@code d} when it is known or all its symbols are bound; null otherwise. */
  private Long tryEval(Dim d) {
    if (d.isUnknown() || !symbols.keySet().containsAll(d.symbols())) {
      return null;
    }
    try {
      return d.eval(symbols::get);
    } catch (ArithmeticException e) {
      return null;
    }
  }

  /** Internal consistency: the computed tensors must have the node's inferred types. */
  private void checkTypes(Node n, Tensor[] out) {
    List<TensorType> types = n.outputTypes();
    if (out.length != types.size()) {
      throw new IllegalStateException(
          "internal error: "
              + n
              + " produced "
              + out.length
              + " values for "
              + types.size()
              + " outputs");
    }
    for (int i = 0; i < out.length; i++) {
      TensorType t = types.get(i);
      Tensor x = out[i];
      boolean ok = x != null && x.dtype() == t.dtype() && x.rank() == t.rank();
      for (int axis = 0; ok && axis < t.rank(); axis++) {
        Long want = tryEval(t.dim(axis));
        ok = want == null || want == x.dim(axis);
      }
      if (!ok) {
        Map<String, Long> used = new TreeMap<>();
        Set<String> names = new TreeSet<>();
        t.dims().forEach(d -> names.addAll(d.symbols()));
        names.forEach(s -> used.put(s, symbols.get(s)));
        throw new IllegalStateException(
            "internal error: "
                + n
                + (n.loc() != null ? " at " + n.loc() : "")
                + " computed "
                + (x == null ? "nothing" : x.dtype() + Arrays.toString(x.shape()))
                + " but its type is "
                + t
                + (used.isEmpty() ? "" : " with " + used));
      }
    }
  }
}
