package dev.cmod.cli;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.Cost;
import dev.cmod.compiler.sema.DataCodec;
import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The per-model report of {@code cmod explain FILE.cmod}. */
final class Explain {
  private Explain() {}

  static String model(Compilation.Result r, boolean showAutoSource) {
    Graph g = r.graph();
    ModelFacts f = r.facts();
    StringBuilder sb = new StringBuilder();
    sb.append("model ").append(r.model()).append('\n');
    if (f.compute() != null) {
      sb.append("  compute: ").append(f.compute()).append('\n');
    }
    sb.append("  inputs:\n");
    String inClass = "Point";
    for (ModelFacts.Port p : f.inputs()) {
      String s = f.structure(p);
      inClass = max(inClass, s);
      sb.append(String.format(Locale.ROOT, "    %-14s %-34s %s%n", p.name(), p.describe(), s));
    }
    sb.append("  outputs:\n");
    String outClass = "Point";
    for (ModelFacts.Port p : f.outputs()) {
      String s = f.structure(p);
      outClass = max(outClass, s);
      sb.append(String.format(Locale.ROOT, "    %-14s %-34s %s%n", p.name(), p.describe(), s));
    }
    codecs(f, sb);
    for (Map.Entry<String, ModelFacts.Auto> a : f.auto().entrySet()) {
      sb.append("  auto(...) for '").append(a.getKey()).append("':\n");
      for (String note : a.getValue().notes()) {
        sb.append("    ").append(note).append('\n');
      }
      if (showAutoSource) {
        sb.append("    source:\n");
        for (String line : a.getValue().source().split("\n")) {
          sb.append("      ").append(line).append('\n');
        }
      }
    }
    if (!f.reductions().isEmpty()) {
      sb.append("  structure reduction (to meet the token budget):\n");
      for (String line : f.reductions()) {
        sb.append("    ").append(line).append('\n');
      }
    }
    sb.append("  shape: ")
        .append(shape(inClass, outClass))
        .append(" (")
        .append(inClass)
        .append(" -> ")
        .append(outClass)
        .append(")\n");
    if (!f.bounds().isEmpty()) {
      sb.append("  bounds:");
      for (Map.Entry<String, long[]> e : f.bounds().entrySet()) {
        sb.append(' ')
            .append(e.getKey())
            .append(" in [")
            .append(e.getValue()[0])
            .append(", ")
            .append(e.getValue()[1] == Long.MAX_VALUE ? "inf" : Long.toString(e.getValue()[1]))
            .append(']');
      }
      sb.append('\n');
    }
    Cost.Params pc = Cost.params(g);
    sb.append("  parameters: ")
        .append(pc.total())
        .append(" (trainable ")
        .append(pc.trainable())
        .append(", frozen ")
        .append(pc.frozen())
        .append(")\n");
    List<String> rows = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        TensorType t = n.type();
        rows.add(
            String.format(
                Locale.ROOT,
                "    %-40s %-20s %10d %s",
                n.attrs().getString("path"),
                t,
                n.attrs().getTensor("value").size(),
                n.attrs().getBool("trainable", true) ? "trainable" : "frozen"));
      }
    }
    rows.sort(null);
    rows.forEach(x -> sb.append(x).append('\n'));
    long dispatched = g.nodes().stream().filter(n -> n.op() == Op.NONZERO).count();
    if (dispatched > 0) {
      // -O2's sparse-routing rewrote top-k routes; the cost model's reasons are in --passes
      sb.append("  routing: sparse dispatch to ")
          .append(dispatched)
          .append(dispatched == 1 ? " expert" : " experts")
          .append(" (each runs on its tokens only; `cmod explain --passes` says why)\n");
    }
    raisedPatterns(g, sb);
    opaqueRegions(g, sb);
    sb.append(String.format(Locale.ROOT, "  estimated FLOPs per sample: %.4g%n", Cost.flops(g, f)));
    if (!f.budget().isEmpty()) {
      f.budget()
          .forEach(
              (k, v) ->
                  sb.append("  budget: ")
                      .append(k)
                      .append(v.strict() ? " < " : " <= ")
                      .append(String.format(Locale.ROOT, "%.4g", v.value()))
                      .append(f.strictBudget() ? " (strict)" : "")
                      .append('\n'));
    }
    return sb.toString();
  }

  /** The declared codecs, each step with where it runs (in the artifact, or on the host). */
  private static void codecs(ModelFacts f, StringBuilder sb) {
    if (f.codecs().isEmpty()) {
      return;
    }
    sb.append("  data:\n");
    for (DataCodec c : f.codecs()) {
      sb.append("    ")
          .append(c.input() ? "input " : "output ")
          .append(c.port())
          .append(c.input() ? " from " : " to ")
          .append(c.kind())
          .append(c.file() != null ? " \"" + c.file() + "\"" : "")
          .append('\n');
      boolean hostFirst = c.input();
      for (String step : hostFirst ? c.hostSteps() : c.graphSteps()) {
        sb.append("      ").append(hostFirst ? "host:  " : "graph: ").append(step).append('\n');
      }
      for (String step : hostFirst ? c.graphSteps() : c.hostSteps()) {
        sb.append("      ").append(hostFirst ? "graph: " : "host:  ").append(step).append('\n');
      }
    }
  }

  private static String max(String a, String b) {
    List<String> order = List.of("Point", "Low", "High");
    return order.indexOf(a) >= order.indexOf(b) ? a : b;
  }

  /** Seed 004's four shapes of model. */
  static String shape(String in, String out) {
    boolean hi = in.equals("High");
    boolean ho = out.equals("High");
    if (hi && !ho) {
      return "fan-in";
    }
    if (hi) {
      return "U";
    }
    if (ho) {
      return "fan-out";
    }
    return "straight";
  }

  /**
   * What the backend's fusion step emits for {@code t}: each fusion rule that matches, with how
   * many times, so a user sees what {@code --target} changed.
   */
  static String target(Compilation.Result r, dev.cmod.onnx.Target t, dev.cmod.onnx.Precision p) {
    Map<String, Integer> fused = dev.cmod.onnx.OnnxEmitter.fusions(r.graph(), t, p);
    StringBuilder sb = new StringBuilder("target ").append(t.text()).append(": ");
    if (fused.isEmpty()) {
      sb.append("no fused operators");
    } else {
      List<String> parts = new ArrayList<>();
      for (Map.Entry<String, Integer> e : fused.entrySet()) {
        parts.add(e.getKey() + " x" + e.getValue());
      }
      sb.append("fused ").append(String.join(", ", parts));
    }
    return sb.append(System.lineSeparator()).toString();
  }

  /**
   * The artifact's precision: f32 as declared, or what {@code --precision f16} computes in f16 and
   * keeps in f32 (by op), with the casts between them and the parameters stored in each.
   */
  static String precision(Compilation.Result r, dev.cmod.onnx.Target t, dev.cmod.onnx.Precision p) {
    String line =
        p == dev.cmod.onnx.Precision.F32
            ? "precision f32: as declared"
            : dev.cmod.onnx.OnnxEmitter.halfPrecisionSummary(r.graph(), t);
    return line + System.lineSeparator();
  }

  /**
   * The decomposed patterns (layer norm, GELU, attention) the importer raised back to IR ops in
   * each imported model, so a user sees that the optimizer and the fused targets got them whole.
   */
  private static void raisedPatterns(Graph g, StringBuilder sb) {
    String key = dev.cmod.onnx.importer.PatternRaising.RAISED_KEY;
    for (Map.Entry<String, String> e : g.metadata().entrySet()) {
      if (e.getKey().startsWith(key)) {
        sb.append("  raised on import (")
            .append(e.getKey().substring(key.length()))
            .append("): ")
            .append(e.getValue().replaceAll("(\\w+) (\\d+)", "$1 ×$2"))
            .append('\n');
      }
    }
  }

  /**
   * The parts of imported models carried opaque (run by ONNX Runtime, not optimized or adaptable):
   * per region, its ONNX nodes by operator (subgraph bodies not counted), and the weights it holds.
   */
  private static void opaqueRegions(Graph g, StringBuilder sb) {
    List<dev.cmod.ir.graph.Node> regions =
        g.nodes().stream().filter(n -> n.op() == Op.ONNX_REGION).toList();
    if (regions.isEmpty()) {
      return;
    }
    sb.append("  opaque ONNX regions (run by ONNX Runtime as the file has them): ")
        .append(regions.size())
        .append('\n');
    for (dev.cmod.ir.graph.Node n : regions) {
      dev.cmod.ir.graph.OnnxRegion r = dev.cmod.ir.op.OpaqueOps.REGION.get(n.attrs());
      java.util.Map<String, Integer> ops = new java.util.TreeMap<>();
      int weights = 0;
      try {
        ai.onnx.proto.OnnxMl.GraphProto gp =
            dev.cmod.onnx.TensorProtos.parseModel(r.model()).getGraph();
        gp.getNodeList().forEach(x -> ops.merge(x.getOpType(), 1, Integer::sum));
        weights = gp.getInitializerCount();
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        ops.put("(unreadable)", 1);
      }
      StringBuilder list = new StringBuilder();
      ops.forEach(
          (k, v) -> list.append(list.length() == 0 ? "" : ", ").append(k).append(" ×").append(v));
      sb.append("    r")
          .append(n.id())
          .append(": ")
          .append(ops.values().stream().mapToInt(Integer::intValue).sum())
          .append(" nodes (")
          .append(list)
          .append("), ")
          .append(weights)
          .append(weights == 1 ? " weight" : " weights")
          .append(" inside\n");
    }
  }
}
