package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.rewrite.RewriteDriver;
import dev.cmod.ir.rewrite.RuleSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A pass that applies a rule set with the {@link RewriteDriver}: at most {@code maxSweeps} sweeps
 * in graph order. Passes inside a {@link Pipeline.Repeat} use one sweep, because the repeat is the
 * fixpoint: between two sweeps of one pass the other passes of the group see its result.
 */
public final class RulePass implements Pass {
  private final String name;
  private final RuleSet rules;
  private final int maxSweeps;
  private final List<String> needs;

  public RulePass(String name, RuleSet rules, int maxSweeps, List<String> needs) {
    this.name = name;
    this.rules = rules;
    this.maxSweeps = maxSweeps;
    this.needs = List.copyOf(needs);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public List<String> needs() {
    return needs;
  }

  @Override
  public boolean run(Graph g, PassContext cx) {
    RewriteDriver.Result r =
        RewriteDriver.apply(
            g,
            rules,
            maxSweeps,
            (rule, root, edits) ->
                cx.note(
                    rule.name()
                        + " at "
                        + root
                        + (root.loc() != null ? " (" + root.loc() + ")" : "")
                        + ": "
                        + edits.stream().map(Object::toString).collect(Collectors.joining(", "))));
    for (Map.Entry<String, Integer> e : r.counts().entrySet()) {
      if (e.getValue() > 0) {
        cx.count(e.getKey(), e.getValue());
      }
    }
    return r.changed();
  }
}
