package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;
import java.util.List;

/**
 * The optimization pipeline, in order. -O0 runs nothing (the graph is what the source says). -O1:
 * dead code elimination first (less to look at), then constant folding (creates equal constants),
 * then CSE (merges them and the subexpressions over them). -O2: -O1 plus algebraic simplification
 * and parameter folding (LoRA/IA³ merging), iterated with folding and CSE until nothing changes (at
 * most {@link #MAX_ROUNDS} rounds, since each rewrite can expose another). Simplification runs
 * before folding so that trivial nodes do not get folded into new tensors; parameter folding runs
 * after constant folding so constant subtrees are already one node.
 */
public final class Pipeline {
  public static final int MAX_ROUNDS = 8;

  private Pipeline() {}

  public static List<Pass> passes(int level) {
    return switch (level) {
      case 0 -> List.of();
      case 1 ->
          List.of(
              new DeadCodeElimination(),
              new ConstantFolding(),
              new CommonSubexpressionElimination());
      default ->
          List.of(
              new DeadCodeElimination(),
              new AlgebraicSimplification(),
              new ConstantFolding(),
              new ParameterFolding(),
              new CommonSubexpressionElimination());
    };
  }

  /**
   * Runs the passes of {@code level} on {@code g}, after lowering the structured routing that
   * elaboration builds (at every level: nothing downstream knows the route op).
   */
  public static void run(Graph g, int level) {
    new LowerRouting().run(g);
    List<Pass> ps = passes(level);
    int rounds = level >= 2 ? MAX_ROUNDS : 1;
    for (int r = 0; r < rounds; r++) {
      boolean changed = false;
      for (Pass p : ps) {
        changed |= p.run(g);
      }
      if (!changed) {
        break;
      }
    }
  }
}
