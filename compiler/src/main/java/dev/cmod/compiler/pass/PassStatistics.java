package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Time and rewrites per pass and per rule over one pipeline run, printed when the pipeline ends:
 * where the optimizer spends its time and which rules fire.
 */
public final class PassStatistics implements PassInstrument {
  private static final class Row {
    int runs;
    int changed;
    long nanos;
    final Map<String, Integer> counts = new LinkedHashMap<>();
  }

  private final PrintStream out;
  private final Map<String, Row> rows = new LinkedHashMap<>();

  public PassStatistics(PrintStream out) {
    this.out = out;
  }

  @Override
  public void afterPass(PassRun run, Graph g) {
    Row r = rows.computeIfAbsent(run.pass(), k -> new Row());
    r.runs++;
    r.changed += run.changed() ? 1 : 0;
    r.nanos += run.nanos();
    run.counts().forEach((k, v) -> r.counts.merge(k, v, Integer::sum));
  }

  @Override
  public void afterPipeline(Graph g) {
    out.print(render(g.name()));
    out.flush();
    rows.clear();
  }

  /** The table so far. */
  String render(String graph) {
    StringBuilder sb = new StringBuilder("pass statistics for " + graph + ":\n");
    if (rows.isEmpty()) {
      sb.append("  no passes ran\n");
    }
    long total = 0;
    for (Map.Entry<String, Row> e : rows.entrySet()) {
      Row r = e.getValue();
      total += r.nanos;
      int rewrites = r.counts.values().stream().mapToInt(Integer::intValue).sum();
      sb.append(
          String.format(
              Locale.ROOT,
              "  %-18s %3d run%s %3d changed %9.3f ms %6d rewrite%s%n",
              e.getKey(),
              r.runs,
              r.runs == 1 ? " " : "s",
              r.changed,
              r.nanos / 1e6,
              rewrites,
              rewrites == 1 ? "" : "s"));
      for (Map.Entry<String, Integer> c : r.counts.entrySet()) {
        sb.append(String.format(Locale.ROOT, "    %-28s %6d%n", c.getKey(), c.getValue()));
      }
    }
    sb.append(String.format(Locale.ROOT, "  total %.3f ms%n", total / 1e6));
    return sb.toString();
  }
}
