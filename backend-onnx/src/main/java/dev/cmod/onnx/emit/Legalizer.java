package dev.cmod.onnx.emit;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.rewrite.Match;
import dev.cmod.onnx.Target;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The legalization step between the IR and the ONNX lowering: for one target, chooses which
 * subgraphs are emitted as one fused operator ({@link FusionRules}) and which nodes the lowerings
 * emit one by one. It reads the graph and never changes it.
 *
 * <p>Nodes are visited from the last in topological order to the first, and each is offered the
 * target's rules in catalogue order; the first that matches claims its root and interior nodes. So
 * a larger pattern rooted later (multi-head attention ending in a reshape) claims its nodes before
 * a smaller one rooted inside it could. A match is refused when a node it would replace is already
 * claimed, or when a value it would replace is read outside the match (or is a model output) and
 * the fused operator does not provide it, or provides it only after a reader.
 */
final class Legalizer {
  private Legalizer() {}

  /** A claimed match: the rule, its match and the nodes it replaces besides the root. */
  record Claim(Fusion rule, Match match, Set<Node> interior) {}

  /**
   * The fusion decisions for one graph.
   *
   * @param roots the claims by root node
   * @param covered the interior nodes of every claim (not emitted by their own lowerings)
   * @param counts matches per rule, in catalogue order (rules that did not match are absent)
   */
  record Plan(Map<Node, Claim> roots, Set<Node> covered, Map<String, Integer> counts) {}

  /** The plan that fuses nothing. */
  static Plan none() {
    return new Plan(Map.of(), Set.of(), Map.of());
  }

  /** The plan of {@code g} for target {@code t}. */
  static Plan plan(Graph g, Target t) {
    List<Fusion> rules = new ArrayList<>();
    for (Fusion f : FusionRules.ALL) {
      if (f.targets().contains(t)) {
        rules.add(f);
      }
    }
    List<Node> nodes = g.nodes();
    Map<Node, Integer> order = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      order.put(nodes.get(i), i);
    }
    Map<Node, Claim> roots = new HashMap<>();
    Set<Node> covered = new HashSet<>();
    Map<String, Integer> found = new HashMap<>();
    for (int i = nodes.size() - 1; i >= 0; i--) {
      Node n = nodes.get(i);
      if (n.op().isLeaf() || covered.contains(n)) {
        continue;
      }
      for (Fusion rule : rules) {
        Set<Op> ops = rule.pattern().rootOps();
        if (ops != null && !ops.contains(n.op())) {
          continue;
        }
        Match m = Match.of(rule.pattern(), g, n);
        if (m == null) {
          continue;
        }
        Set<Node> interior = claimable(g, m, rule, n, order, roots, covered);
        if (interior != null) {
          roots.put(n, new Claim(rule, m, interior));
          covered.addAll(interior);
          found.merge(rule.name(), 1, Integer::sum);
          break;
        }
      }
    }
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (Fusion f : rules) {
      if (found.containsKey(f.name())) {
        counts.put(f.name(), found.get(f.name()));
      }
    }
    return new Plan(roots, covered, counts);
  }

  /** The interior nodes of match {@code m} at {@code root}, or null when it may not be claimed. */
  private static Set<Node> claimable(
      Graph g,
      Match m,
      Fusion rule,
      Node root,
      Map<Node, Integer> order,
      Map<Node, Claim> roots,
      Set<Node> covered) {
    Set<Node> interior = new LinkedHashSet<>();
    Set<Node> provided = new HashSet<>();
    for (String name : rule.interior()) {
      Node x = m.node(name);
      if (x == root || x.op().isLeaf() || covered.contains(x) || roots.containsKey(x)) {
        return null;
      }
      interior.add(x);
    }
    for (String name : rule.provided()) {
      provided.add(m.node(name));
    }
    for (Node x : interior) {
      boolean escapes = false;
      for (int k = 0; k < x.outputTypes().size(); k++) {
        escapes |= g.outputs().containsValue(x.out(k));
      }
      for (Node user : g.users(x)) {
        if (user == root || interior.contains(user)) {
          continue;
        }
        if (!provided.contains(x) || order.get(user) < order.get(root)) {
          return null;
        }
        escapes = true;
      }
      if (escapes && !provided.contains(x)) {
        return null;
      }
    }
    return interior;
  }
}
