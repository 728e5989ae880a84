package dev.cmod.ir.print;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The text form of a graph: one line per node in topological order, then one line per model output.
 * For example:
 *
 * <pre>
 * %0 = input "x" : f32[batch, 4]
 * %1 = param "l1.weight" : f32[4, 8]
 * %2 = matmul(%0, %1) : f32[batch, 8]  // model.cmod:4:3
 * %3 = softmax(%2) {axis=1} : f32[batch, 8]
 * output "y" = %3
 * </pre>
 *
 * Nodes with several outputs show their types as {@code (t0, t1)}; their outputs are referred to as
 * {@code %5#1}. The same graph always prints the same text.
 */
public final class TextPrinter {
  private static final int PREVIEW = 6;

  private TextPrinter() {}

  /** The whole graph, each line ending in a newline. */
  public static String print(Graph g) {
    StringBuilder sb = new StringBuilder();
    for (Node n : g.nodes()) {
      sb.append(line(g, n)).append('\n');
    }
    for (Map.Entry<String, Value> o : g.outputs().entrySet()) {
      sb.append("output ")
          .append(quote(o.getKey()))
          .append(" = ")
          .append(o.getValue())
          .append('\n');
    }
    return sb.toString();
  }

  /** One node's line, without a newline. */
  public static String line(Graph g, Node n) {
    StringBuilder sb = new StringBuilder();
    sb.append('%').append(n.id()).append(" = ").append(n.op().text());
    Op op = n.op();
    if (op == Op.INPUT) {
      sb.append(' ').append(quote(n.attrs().getString("name")));
    } else if (op == Op.PARAM) {
      sb.append(' ').append(quote(n.attrs().getString("path")));
    } else if (op == Op.CONST) {
      sb.append(' ').append(preview(n.attrs().getTensor("value")));
    } else {
      sb.append('(');
      List<Value> operands = g.operands(n);
      for (int i = 0; i < operands.size(); i++) {
        sb.append(i > 0 ? ", " : "").append(operands.get(i));
      }
      sb.append(')');
      String attrs = n.attrs().render(false);
      if (!attrs.isEmpty()) {
        sb.append(" {").append(attrs).append('}');
      }
    }
    sb.append(" : ").append(types(n.outputTypes()));
    if (n.loc() != null) {
      sb.append("  // ").append(n.loc());
    }
    return sb.toString();
  }

  static String types(List<TensorType> ts) {
    if (ts.size() == 1) {
      return ts.get(0).toString();
    }
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < ts.size(); i++) {
      sb.append(i > 0 ? ", " : "").append(ts.get(i));
    }
    return sb.append(')').toString();
  }

  /** The first few values of a constant, as {@code [1, 2, 3, ...]}. */
  static String preview(Tensor t) {
    StringBuilder sb = new StringBuilder("[");
    int n = Math.min(t.size(), PREVIEW);
    for (int i = 0; i < n; i++) {
      sb.append(i > 0 ? ", " : "");
      if (t.isFloat()) {
        float v = t.floats()[i];
        sb.append(
            v == Math.rint(v) && Math.abs(v) < 1e9f
                ? Long.toString((long) v)
                : String.format(Locale.ROOT, "%.6g", v));
      } else {
        sb.append(t.longs()[i]);
      }
    }
    if (t.size() > n) {
      sb.append(", ...");
    }
    return sb.append(']').toString();
  }

  /**
   * A double-quoted string with backslash escapes for quotes, backslashes and control characters.
   */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
