package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.graph.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A builtin call's arguments bound to its parameters by name (positional, named, or the default
 * written in {@link BuiltinTable}), with typed readers that report a wrong argument at its span.
 * Absent optional arguments are missing from the map.
 */
final class BuiltinArgs {
  final Map<String, Val> vals = new LinkedHashMap<>();
  final Map<String, Span> spans = new LinkedHashMap<>();
  final Span call;
  private final ElabContext el;

  private BuiltinArgs(ElabContext el, Span call) {
    this.el = el;
    this.call = call;
  }

  boolean has(String k) {
    return vals.containsKey(k) && !(vals.get(k) instanceof NoneV);
  }

  Span at(String k) {
    return spans.getOrDefault(k, call);
  }

  Value tensor(String k) {
    return el.tensorOf(vals.get(k), at(k), "argument '" + k + "'");
  }

  long integer(String k) {
    return el.intValue(vals.get(k), at(k), "argument '" + k + "'");
  }

  double number(String k) {
    return el.number(vals.get(k), at(k), "argument '" + k + "'");
  }

  boolean bool(String k) {
    Val v = vals.get(k);
    if (v instanceof BoolV b) {
      return b.value();
    }
    el.fail(
        DiagnosticCode.TYPE_MISMATCH,
        at(k),
        "argument '" + k + "' must be true or false, got " + Val.describe(v),
        null);
    return false;
  }

  /** A (possibly negative) axis normalized against {@code rank}. */
  int axis(String k, int rank) {
    long a = integer(k);
    if (a < -rank || a >= rank) {
      el.fail(
          DiagnosticCode.SHAPE_MISMATCH,
          at(k),
          "axis " + a + " is out of range for a tensor of rank " + rank,
          rank == 0 ? null : "valid axes are " + (-rank) + " to " + (rank - 1));
    }
    return (int) (a < 0 ? a + rank : a);
  }

  List<Val> list(String k) {
    Val v = vals.get(k);
    if (v instanceof ListV l) {
      return l.items();
    }
    if (v instanceof TupleV t) {
      return t.items();
    }
    el.fail(
        DiagnosticCode.TYPE_MISMATCH,
        at(k),
        "argument '" + k + "' must be a list [..], got " + Val.describe(v),
        null);
    return null;
  }

  /** Binds a call's arguments to the builtin's parameters (defaults from {@link BuiltinTable}). */
  static BuiltinArgs bind(ElabContext el, String name, Args args) {
    String[] sig = BuiltinTable.params(name).toArray(new String[0]);
    BuiltinArgs b = new BuiltinArgs(el, args.span());
    if (args.pos().size() > sig.length) {
      el.fail(
          DiagnosticCode.ARITY,
          args.posSpans().get(sig.length),
          name
              + " takes at most "
              + sig.length
              + " argument"
              + (sig.length == 1 ? "" : "s")
              + ", got "
              + args.pos().size(),
          "expected " + name + "(" + String.join(", ", sig) + ")");
    }
    List<String> pnames = new ArrayList<>();
    for (String p : sig) {
      pnames.add(p.contains("=") ? p.substring(0, p.indexOf('=')) : p);
    }
    for (String k : args.named().keySet()) {
      if (!pnames.contains(k)) {
        String near = Suggest.closest(k, pnames);
        el.fail(
            DiagnosticCode.UNKNOWN_ARGUMENT,
            args.namedSpans().get(k),
            name + " has no parameter '" + k + "'",
            near != null
                ? "did you mean '" + near + "'?"
                : "expected " + name + "(" + String.join(", ", sig) + ")");
      }
    }
    for (int i = 0; i < sig.length; i++) {
      String p = pnames.get(i);
      Val v = null;
      Span at = args.span();
      if (i < args.pos().size()) {
        v = args.pos().get(i);
        at = args.posSpans().get(i);
      } else if (args.named().containsKey(p)) {
        v = args.named().get(p);
        at = args.namedSpans().get(p);
      } else if (sig[i].contains("=")) {
        v = literal(sig[i].substring(sig[i].indexOf('=') + 1), b);
      } else {
        el.fail(
            DiagnosticCode.ARITY,
            args.span(),
            name + " is missing its argument '" + p + "'",
            "expected " + name + "(" + String.join(", ", sig) + ")");
      }
      if (v instanceof ErrorV) {
        throw ElabError.INSTANCE;
      }
      if (v != null) {
        b.vals.put(p, v);
        b.spans.put(p, at);
      }
    }
    return b;
  }

  private static Val literal(String s, BuiltinArgs b) {
    return switch (s) {
      case "none" -> new NoneV();
      case "false" -> new BoolV(false);
      case "true" -> new BoolV(true);
      case "all" -> new StrV("all");
      case "k" -> b.vals.get("k");
      default ->
          s.contains(".") || s.contains("e")
              ? new FloatV(Double.parseDouble(s))
              : IntV.of(Long.parseLong(s));
    };
  }
}
