package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What each pass changed, in order: the record behind {@code cmod explain --passes}. Runs that
 * changed nothing are summarized by count, so the log shows where the work happened; one that
 * changed nothing but left notes (a decision, such as a route kept dense) is shown with them.
 */
public final class ChangeLog implements PassInstrument {
  private final List<PassRun> runs = new ArrayList<>();

  @Override
  public void afterPass(PassRun run, Graph g) {
    runs.add(run);
  }

  /** The runs seen so far, in order. */
  public List<PassRun> runs() {
    return List.copyOf(runs);
  }

  /** The log as text: one paragraph per run that changed something or left a note. */
  public String render() {
    StringBuilder sb = new StringBuilder();
    int quiet = 0;
    for (PassRun r : runs) {
      if (!r.changed()) {
        quiet++;
        // a decision not to change (sparse-routing keeping a route dense) still says why
        if (!r.notes().isEmpty()) {
          sb.append("  ").append(r.pass()).append(" (round ").append(r.round());
          sb.append("): no change\n");
          r.notes().forEach(n -> sb.append("    ").append(n).append('\n'));
        }
        continue;
      }
      sb.append("  ")
          .append(r.pass())
          .append(" (round ")
          .append(r.round())
          .append("): ")
          .append(r.nodesBefore())
          .append(" -> ")
          .append(r.nodesAfter())
          .append(" nodes");
      StringBuilder counts = new StringBuilder();
      for (Map.Entry<String, Integer> c : r.counts().entrySet()) {
        counts.append(counts.length() > 0 ? ", " : "").append(c.getKey()).append(' ');
        counts.append(c.getValue());
      }
      if (counts.length() > 0) {
        sb.append(" [").append(counts).append(']');
      }
      sb.append('\n');
      for (String n : r.notes()) {
        sb.append("    ").append(n).append('\n');
      }
    }
    if (runs.isEmpty()) {
      sb.append("  no passes ran\n");
    } else {
      sb.append("  ")
          .append(quiet)
          .append(" of ")
          .append(runs.size())
          .append(" pass runs changed nothing\n");
    }
    return sb.toString();
  }
}
