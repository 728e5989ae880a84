package dev.cmod.ir.interp;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.OnnxRegion;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.LeafOps;
import dev.cmod.ir.op.OpaqueOps;
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
  private final OpaqueRegionRunner regions;
  private final Map<String, Long> symbols = new LinkedHashMap<>();
  private final Map<String, String> symbolOrigin = new HashMap<>();

  /** The runtime sizes kernels read, from this run's bound symbols. */
  private final Kernel.Sizes sizes =
      new Kernel.Sizes() {
        @Override
        public long of(Dim d, String op) {
          return dim(d, op);
        }

        @Override
        public long[] of(List<Dim> ds, String op) {
          return dims(ds, op);
        }

        @Override
        public Long tryEval(Dim d) {
          return Interpreter.this.tryEval(d);
        }
      };

  private Interpreter(Graph graph, OpaqueRegionRunner regions) {
    this.graph = graph;
    this.regions = regions;
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
    return run(g, inputs, null);
  }

  /**
   * As {@link #run(Graph, Map)}, evaluating opaque ONNX regions (imported models' operators that
   * the IR does not raise) with {@code regions}; without a runner (null) such a region is an {@link
   * InterpreterException}.
   */
  public static Map<String, Tensor> run(
      Graph g, Map<String, Tensor> inputs, OpaqueRegionRunner regions) {
    Interpreter in = new Interpreter(g, regions);
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
    Interpreter in = new Interpreter(g, null);
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
      result.put(o.getKey(), v.node().op().isLeaf() ? Buffers.copy(t[v.index()]) : t[v.index()]);
    }
    return result;
  }

  private Tensor[] eval(Node n, Tensor[] x, Map<String, Tensor> given) {
    Attrs a = n.attrs();
    return switch (n.op()) {
      case INPUT -> new Tensor[] {given.get(LeafOps.NAME.get(a))};
      case PARAM, CONST -> new Tensor[] {LeafOps.VALUE.get(a)};
      case ONNX_REGION -> region(n, x);
      default -> Kernels.of(n.op()).run(n, x, sizes);
    };
  }

  /** An opaque region, run by the runner this interpreter was given. */
  private Tensor[] region(Node n, Tensor[] x) {
    OnnxRegion r = OpaqueOps.REGION.get(n.attrs());
    if (regions == null) {
      throw new InterpreterException(
          "onnx_region "
              + r.outputNames()
              + ": an opaque region of an imported ONNX model runs only on ONNX Runtime, and this"
              + " interpreter was given no region runner");
    }
    List<Tensor> out = regions.run(r, List.of(x));
    if (out.size() != n.outputTypes().size()) {
      throw new InterpreterException(
          "onnx_region " + r.outputNames() + ": the runner returned " + out.size() + " outputs");
    }
    return out.toArray(new Tensor[0]);
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
