package dev.cmod.ir.rewrite;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Applies a {@link RuleSet} to a graph until no rule applies or an iteration cap is reached. One
 * iteration is a sweep: the worklist is filled with the graph's nodes in topological order (ties by
 * id, as {@link Graph#nodes()} gives them), and each node still in the graph is offered its rules
 * in set order; the first rule that matches and rewrites wins and the sweep moves on. Nodes a
 * rewrite creates join the next sweep's worklist, never the current one, so a sweep's result
 * depends only on the graph it started from; visiting in graph order is what makes results, and the
 * ids of the nodes rewrites create, deterministic. The driver does not remove dead nodes.
 */
public final class RewriteDriver {
  /** Told of each applied rewrite, with what it did; for change logs. */
  @FunctionalInterface
  public interface Listener {
    void applied(Rule rule, Node root, List<Rewriter.Edit> edits);
  }

  /**
   * What a run did.
   *
   * @param changed whether any rule rewrote anything
   * @param sweeps how many sweeps ran
   * @param capped whether the last sweep still changed something when the cap stopped the run
   * @param counts rewrites per rule name, in rule-set order, zeros included
   */
  public record Result(boolean changed, int sweeps, boolean capped, Map<String, Integer> counts) {
    public int total() {
      return counts.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  private RewriteDriver() {}

  /** Sweeps at most {@code maxSweeps} times (at least one). */
  public static Result apply(Graph g, RuleSet rules, int maxSweeps, Listener listener) {
    return apply(g, rules, maxSweeps, listener, n -> false);
  }

  /**
   * {@link #apply(Graph, RuleSet, int, Listener)} where the nodes {@code live} accepts are offered
   * their rules even when nothing reads them yet (the results of a graph still being built, such as
   * an import's outputs, which the program reads once the import returns).
   */
  public static Result apply(
      Graph g, RuleSet rules, int maxSweeps, Listener listener, Predicate<Node> live) {
    if (maxSweeps < 1) {
      throw new IllegalArgumentException("maxSweeps must be at least 1, is " + maxSweeps);
    }
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (Rule r : rules.rules()) {
      counts.put(r.name(), 0);
    }
    Rewriter rw = new Rewriter(g);
    boolean changed = false;
    boolean sweepChanged = false;
    int sweeps = 0;
    while (sweeps < maxSweeps) {
      sweeps++;
      sweepChanged = false;
      Deque<Node> work = new ArrayDeque<>(g.nodes());
      while (!work.isEmpty()) {
        Node n = work.poll();
        if (!g.contains(n) || rw.isDead(n) && !live.test(n)) {
          continue;
        }
        for (Rule r : rules.rulesFor(n.op())) {
          Match m = new Match(g, n);
          if (!r.matches(m)) {
            continue;
          }
          int mark = rw.editCount();
          if (r.rewrite(m, rw) && rw.editCount() > mark) {
            counts.merge(r.name(), 1, Integer::sum);
            sweepChanged = true;
            if (listener != null) {
              listener.applied(r, n, rw.editsSince(mark));
            }
            break;
          }
        }
      }
      changed |= sweepChanged;
      if (!sweepChanged) {
        break;
      }
    }
    return new Result(changed, sweeps, sweepChanged, Collections.unmodifiableMap(counts));
  }
}
