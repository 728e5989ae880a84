package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.Binary;
import dev.cmod.compiler.ast.Ast.Expr;
import dev.cmod.compiler.ast.Ast.NameRef;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What a model declares besides its graph: ports with modality info, bounds on symbols, budget. */
public final class ModelFacts {
  /** A model input or output. */
  public record Port(String name, Modality.Resolved resolved, Span span) {
    public TensorType type() {
      return resolved.type();
    }

    public String modality() {
      return resolved.modality();
    }

    public List<Integer> structuralAxes() {
      return resolved.structural();
    }

    public String describe() {
      return resolved.describe();
    }
  }

  public record Limit(double value, boolean strict, Span span) {}

  /** What auto(...) chose for one output: one line per decision, and the synthesized source. */
  public record Auto(List<String> notes, String source) {}

  String compute;
  Span computeSpan;
  final List<Port> inputs = new ArrayList<>();
  final List<Port> outputs = new ArrayList<>();
  final Map<String, long[]> bounds = new LinkedHashMap<>();
  final Map<String, Limit> budget = new LinkedHashMap<>();
  final Set<String> defaulted = new LinkedHashSet<>();
  final Set<String> adapterFactors = new LinkedHashSet<>();
  final Map<String, Auto> auto = new LinkedHashMap<>();
  boolean strictBudget;
  final List<String> reductions = new ArrayList<>();
  final List<DataCodec> codecs = new ArrayList<>();

  /** The codecs declared with inputs ({@code from ...}) and outputs ({@code to ...}), in order. */
  public List<DataCodec> codecs() {
    return List.copyOf(codecs);
  }

  /** The codec of an input ({@code input = true}) or output, or null. */
  public DataCodec codec(String port, boolean input) {
    for (DataCodec c : codecs) {
      if (c.port().equals(port) && c.input() == input) {
        return c;
      }
    }
    return null;
  }

  /**
   * Whether the budget is {@code strict}: checked only, never met by changing the model (an
   * attention over more tokens than the budget is an error, not a structure reduction).
   */
  public boolean strictBudget() {
    return strictBudget;
  }

  /** What structure reduction did to meet the token budget, one line per attention. */
  public List<String> reductions() {
    return reductions;
  }

  /** The architectures auto(...) synthesized, by output name. */
  public Map<String, Auto> auto() {
    return auto;
  }

  public String compute() {
    return compute;
  }

  public Span computeSpan() {
    return computeSpan;
  }

  public List<Port> inputs() {
    return inputs;
  }

  public List<Port> outputs() {
    return outputs;
  }

  /**
   * Inclusive [min, max] per symbol from where clauses ({@code Long.MAX_VALUE} when unbounded
   * above).
   */
  public Map<String, long[]> bounds() {
    return bounds;
  }

  public Map<String, Limit> budget() {
    return budget;
  }

  /** Paths of parameters that kept their initializer (no weights given for them). */
  public Set<String> defaulted() {
    return defaulted;
  }

  /**
   * Paths of the LoRA factors and IA³ vectors that {@code with lora} / {@code with ia3} made, in
   * the order they were made: what {@code --adapters runtime} turns into run-time inputs.
   */
  public Set<String> adapterFactors() {
    return adapterFactors;
  }

  Port input(String name) {
    return inputs.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
  }

  /**
   * Records {@code sym <= n}, {@code sym < n}, {@code sym >= n}, {@code n >= sym}... from a where
   * clause.
   */
  void recordBound(Expr w, ElabContext el, Body body) {
    if (!(w instanceof Binary b)) {
      el.fail(
          DiagnosticCode.BAD_DIM,
          w.span(),
          "a where clause bounds a symbolic dim, e.g. where seq <= 64",
          null);
      return;
    }
    String op = b.op();
    Expr symE = b.left();
    Expr limE = b.right();
    if (!(symE instanceof NameRef) && b.right() instanceof NameRef) {
      symE = b.right();
      limE = b.left();
      op =
          switch (op) {
            case "<" -> ">";
            case "<=" -> ">=";
            case ">" -> "<";
            case ">=" -> "<=";
            default -> op;
          };
    }
    if (!(symE instanceof NameRef n)
        || !(body.env.lookup(n.name()) instanceof Val.IntV iv)
        || iv.dim().isKnown()) {
      el.fail(
          DiagnosticCode.BAD_DIM,
          w.span(),
          "a where clause must bound a symbolic dim of this input, e.g. where seq <= 64",
          null);
      return;
    }
    long lim = el.intValue(el.eval(limE, body, null), limE.span(), "a bound");
    long[] r = bounds.computeIfAbsent(n.name(), k -> new long[] {1, Long.MAX_VALUE});
    switch (op) {
      case "<=" -> r[1] = Math.min(r[1], lim);
      case "<" -> r[1] = Math.min(r[1], lim - 1);
      case ">=" -> r[0] = Math.max(r[0], lim);
      case ">" -> r[0] = Math.max(r[0], lim + 1);
      case "==" -> {
        r[0] = Math.max(r[0], lim);
        r[1] = Math.min(r[1], lim);
      }
      default ->
          el.fail(
              DiagnosticCode.BAD_DIM, b.opSpan(), "a where clause uses <, <=, >, >= or ==", null);
    }
    if (r[0] > r[1]) {
      el.fail(
          DiagnosticCode.BOUND_VIOLATED,
          w.span(),
          "no size of " + n.name() + " satisfies the bounds [" + r[0] + ", " + r[1] + "]",
          null);
    }
  }

  /**
   * The size used for a symbol when none is given: its upper bound capped at {@code cap}, else
   * {@code dflt}.
   */
  public long defaultSize(String symbol, long dflt, long cap) {
    long[] r = bounds.get(symbol);
    if (r == null) {
      return dflt;
    }
    long v = Math.min(r[1], Math.max(dflt, r[0]));
    return Math.max(r[0], Math.min(v, cap));
  }

  /**
   * Positions of a port along its structural axes at the where upper bounds (1 for Point), or -1
   * when unbounded.
   */
  public long positions(Port p) {
    long n = 1;
    for (int a : p.structuralAxes()) {
      Dim d = p.type().dim(a);
      long v;
      try {
        v =
            d.isKnown()
                ? d.value()
                : d.eval(
                    s -> {
                      long[] r = bounds.get(s);
                      if (r == null || r[1] == Long.MAX_VALUE) {
                        throw new IllegalStateException("unbounded");
                      }
                      return r[1];
                    });
      } catch (IllegalStateException | ArithmeticException e) {
        return -1;
      }
      n = n > Long.MAX_VALUE / Math.max(1, v) ? Long.MAX_VALUE : n * v;
    }
    return n;
  }

  /**
   * The structure class of a port (section 2 / seed 004): Point, Low (< 1000 along structural axes)
   * or High.
   */
  public String structure(Port p) {
    if (p.structuralAxes().isEmpty()) {
      return "Point";
    }
    long n = 1;
    for (int a : p.structuralAxes()) {
      Dim d = p.type().dim(a);
      long v;
      if (d.isKnown()) {
        v = d.value();
      } else {
        try {
          v =
              d.eval(
                  s -> {
                    long[] r = bounds.get(s);
                    if (r == null || r[1] == Long.MAX_VALUE) {
                      throw new IllegalStateException("unbounded");
                    }
                    return r[1];
                  });
        } catch (IllegalStateException | ArithmeticException e) {
          return "High";
        }
      }
      n = n > Long.MAX_VALUE / Math.max(1, v) ? Long.MAX_VALUE : n * v;
    }
    return n >= 1000 ? "High" : "Low";
  }
}
