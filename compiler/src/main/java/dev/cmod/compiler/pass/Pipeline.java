package dev.cmod.compiler.pass;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The optimization pipelines, one per -O level, written out here with the reason for each position
 * so that the order is a decision one can read and argue with. A pipeline is a list of stages: a
 * single {@link Step}, or a {@link Repeat} of steps run in rounds until a round changes nothing.
 * The {@link PassManager} runs them, removing dead code after any pass that changed something.
 */
public final class Pipeline {
  /** A part of a pipeline. */
  public sealed interface Stage permits Step, Repeat {}

  /** One pass, and why it is where it is. */
  public record Step(Pass pass, String reason) implements Stage {}

  /**
   * Steps run in rounds, in order, until no step of a round changed the graph or {@code maxRounds}
   * rounds ran: each rewrite can expose another (a fold makes equal constants CSE merges, a merge
   * makes a reshape of a reshape simplification removes...).
   */
  public record Repeat(List<Step> steps, int maxRounds, String reason) implements Stage {
    public Repeat {
      steps = List.copyOf(steps);
    }
  }

  /** Rounds of the -O2 fixpoint; each round is cheap and real models settle in two or three. */
  public static final int MAX_ROUNDS = 8;

  public static final Pass SPARSE_ROUTING = new SparseRouting();
  public static final Pass LOWER_ROUTING = new LowerRouting();
  public static final Pass DCE = new DeadCodeElimination();
  public static final Pass SIMPLIFY = new RulePass("simplify", AlgebraicRules.ALL, 1, List.of());
  // one sweep each: the -O2 repeat is the fixpoint (see RulePass)
  public static final Pass CONSTANT_FOLDING =
      new RulePass("constant-folding", FoldingRules.CONSTANTS, 1, List.of("simplify"));
  public static final Pass PARAMETER_FOLDING =
      new RulePass("parameter-folding", FoldingRules.PARAMETERS, 1, List.of("constant-folding"));
  public static final Pass CSE = new CommonSubexpressionElimination();

  private static final String LOWERING =
      "first at every level, -O0 too (at -O2 right after sparse-routing): routing is built as one"
          + " structured node so that passes can see it, but the interpreter, the ONNX lowering and"
          + " the other passes know only its dense form";
  private static final String FIRST_DCE = "first, so no later pass looks at nodes nothing uses";

  private final int level;
  private final List<Stage> stages;

  private Pipeline(int level, List<Stage> stages) {
    this.level = level;
    this.stages = List.copyOf(stages);
    Set<String> seen = new HashSet<>();
    Set<String> present = new HashSet<>();
    for (Pass p : passes()) {
      present.add(p.name());
    }
    for (Pass p : passes()) {
      for (String need : p.needs()) {
        if (present.contains(need) && !seen.contains(need)) {
          throw new IllegalArgumentException(
              "pass '" + p.name() + "' needs '" + need + "' to run before it");
        }
      }
      seen.add(p.name());
    }
  }

  /** A pipeline of these stages (checked: every pass comes after the passes it needs). */
  public static Pipeline of(int level, List<Stage> stages) {
    return new Pipeline(level, stages);
  }

  /** The pipeline of an -O level: 0, 1, or 2 (anything higher is 2). */
  public static Pipeline forLevel(int level) {
    return switch (level) {
      // the graph is what the source says: for debugging the compiler and reading the IR
      case 0 -> new Pipeline(0, List.of(new Step(LOWER_ROUTING, LOWERING)));
      // cheap cleanups that keep every parameter as declared (training artifacts)
      case 1 ->
          new Pipeline(
              1,
              List.of(
                  new Step(LOWER_ROUTING, LOWERING),
                  new Step(DCE, FIRST_DCE),
                  new Step(CONSTANT_FOLDING, "creates equal constants for CSE to merge"),
                  new Step(
                      CSE, "last: merges the folded constants and the expressions over them")));
      // inference artifacts: sparse routing, then -O1 plus simplification and parameter folding,
      // to a fixpoint; -O1 keeps routing dense (training artifacts: the graph as declared)
      default ->
          new Pipeline(
              2,
              List.of(
                  new Step(
                      SPARSE_ROUTING,
                      "before lower-routing, while each route is still one node: top-k routes the"
                          + " cost model favors become sparse dispatch (each expert on its tokens"
                          + " only), experts constant gates never choose are removed"),
                  new Step(LOWER_ROUTING, LOWERING),
                  new Repeat(
                      List.of(
                          new Step(DCE, FIRST_DCE),
                          new Step(
                              CSE,
                              "before the folds: one computation applied twice to the same"
                                  + " arguments (an imported backbone, a shared block) becomes one,"
                                  + " before parameter folding gives each copy weights of its own"),
                          new Step(
                              SIMPLIFY,
                              "before folding, so that trivial nodes are not folded into new"
                                  + " tensors"),
                          new Step(CONSTANT_FOLDING, "makes constant subtrees single constants"),
                          new Step(
                              PARAMETER_FOLDING,
                              "after constant folding, so a constant operand is already one node"
                                  + " (LoRA/IA³ factors merge into one weight)"),
                          new Step(CSE, "last: merges what the folds made equal")),
                      MAX_ROUNDS,
                      "each rewrite can expose another")));
    };
  }

  /** The -O level this pipeline is for. */
  public int level() {
    return level;
  }

  public List<Stage> stages() {
    return stages;
  }

  /** Every pass in order of first appearance. */
  public List<Pass> passes() {
    List<Pass> out = new ArrayList<>();
    for (Stage s : stages) {
      if (s instanceof Step st) {
        out.add(st.pass());
      } else if (s instanceof Repeat r) {
        for (Step st : r.steps()) {
          out.add(st.pass());
        }
      }
    }
    return out;
  }

  /** The names of every pass of any pipeline, in -O2 order: what the command line accepts. */
  public static Set<String> knownPasses() {
    Set<String> names = new LinkedHashSet<>();
    for (int level = 2; level >= 0; level--) {
      for (Pass p : forLevel(level).passes()) {
        names.add(p.name());
      }
    }
    return names;
  }

  /** The names of the passes that cannot be disabled (see {@link Pass#required()}). */
  public static Set<String> requiredPasses() {
    Set<String> names = new LinkedHashSet<>();
    for (Pass p : forLevel(2).passes()) {
      if (p.required()) {
        names.add(p.name());
      }
    }
    return names;
  }

  /** The pipeline as text, one pass a line with its reason (for documentation and tests). */
  public String describe() {
    StringBuilder sb = new StringBuilder("-O" + level + ":");
    if (stages.isEmpty()) {
      sb.append(" no passes\n");
      return sb.toString();
    }
    sb.append('\n');
    for (Stage s : stages) {
      if (s instanceof Step st) {
        sb.append("  ").append(st.pass().name()).append(": ").append(st.reason()).append('\n');
      } else if (s instanceof Repeat r) {
        sb.append("  repeat up to ")
            .append(r.maxRounds())
            .append(" rounds (")
            .append(r.reason())
            .append("):\n");
        for (Step st : r.steps()) {
          sb.append("    ").append(st.pass().name()).append(": ").append(st.reason()).append('\n');
        }
      }
    }
    return sb.toString();
  }
}
