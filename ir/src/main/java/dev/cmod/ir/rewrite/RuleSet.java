package dev.cmod.ir.rewrite;

import dev.cmod.ir.graph.Op;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ordered group of rules applied together. At a node the rules are tried in this order and the
 * first that matches and rewrites wins, so order is a decision (a cheaper or more specific rule
 * first). The set indexes rules by the ops their patterns can match, so a node is only offered the
 * rules that could apply to it.
 */
public final class RuleSet {
  private final String name;
  private final List<Rule> rules;
  private final Map<Op, List<Rule>> byOp = new EnumMap<>(Op.class);

  private RuleSet(String name, List<Rule> rules) {
    this.name = name;
    this.rules = List.copyOf(rules);
    for (Op op : Op.values()) {
      List<Rule> rs = new ArrayList<>();
      for (Rule r : this.rules) {
        Set<Op> ops = r.pattern().rootOps();
        if (ops == null || ops.contains(op)) {
          rs.add(r);
        }
      }
      byOp.put(op, List.copyOf(rs));
    }
  }

  public static RuleSet of(String name, Rule... rules) {
    return new RuleSet(name, List.of(rules));
  }

  public String name() {
    return name;
  }

  public List<Rule> rules() {
    return rules;
  }

  /** The rules that may match a node of {@code op}, in set order. */
  List<Rule> rulesFor(Op op) {
    return byOp.get(op);
  }
}
