package dev.cmod.ir.print;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import java.util.List;
import java.util.Map;

/**
 * Graphviz DOT text of a graph: a box per node labelled with its op (and input name or parameter
 * path) and type, an edge per operand (labelled with the operand slot when the op has more than one
 * operand, and with {@code #k} when it uses output k of a multi-output node), and an ellipse per
 * model output. Deterministic: nodes come in topological order.
 */
public final class DotPrinter {
  private DotPrinter() {}

  public static String print(Graph g) {
    StringBuilder sb = new StringBuilder();
    sb.append("digraph ").append(TextPrinter.quote(g.name())).append(" {\n");
    sb.append("  rankdir=TB;\n");
    sb.append("  node [shape=box, fontname=\"monospace\"];\n");
    List<Node> nodes = g.nodes();
    for (Node n : nodes) {
      String head = n.op().text();
      if (n.op() == Op.INPUT) {
        head += " " + TextPrinter.quote(n.attrs().getString("name"));
      } else if (n.op() == Op.PARAM) {
        head += " " + TextPrinter.quote(n.attrs().getString("path"));
      }
      String label = "%" + n.id() + " " + head + "\n" + TextPrinter.types(n.outputTypes());
      sb.append("  n").append(n.id()).append(" [label=").append(TextPrinter.quote(label));
      if (n.op() == Op.INPUT) {
        sb.append(", style=filled, fillcolor=\"#dde8ff\"");
      } else if (n.op() == Op.PARAM || n.op() == Op.CONST) {
        sb.append(", style=filled, fillcolor=\"#eeeeee\"");
      }
      sb.append("];\n");
    }
    for (Node n : nodes) {
      if (n.op().isLeaf()) {
        continue;
      }
      List<Value> operands = g.operands(n);
      for (int i = 0; i < operands.size(); i++) {
        Value v = operands.get(i);
        sb.append("  n").append(v.node().id()).append(" -> n").append(n.id());
        String label = operands.size() > 1 ? Integer.toString(i) : "";
        if (v.index() > 0) {
          label = "#" + v.index() + (label.isEmpty() ? "" : " -> " + label);
        }
        if (!label.isEmpty()) {
          sb.append(" [label=").append(TextPrinter.quote(label)).append(']');
        }
        sb.append(";\n");
      }
    }
    int k = 0;
    for (Map.Entry<String, Value> o : g.outputs().entrySet()) {
      Value v = o.getValue();
      sb.append("  out")
          .append(k)
          .append(" [shape=ellipse, label=")
          .append(TextPrinter.quote(o.getKey()))
          .append("];\n");
      sb.append("  n").append(v.node().id()).append(" -> out").append(k);
      if (v.index() > 0) {
        sb.append(" [label=").append(TextPrinter.quote("#" + v.index())).append(']');
      }
      sb.append(";\n");
      k++;
    }
    sb.append("}\n");
    return sb.toString();
  }
}
