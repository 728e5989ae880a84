package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;
import java.util.List;

/**
 * One optimization over a graph; outputs stay numerically equal. A pass is stateless, names itself
 * (the name is what {@code --disable-pass}, {@code --print-ir-after} and statistics use) and says
 * which passes it needs to have run before it. It does not clean up: the {@link PassManager}
 * removes dead code after a pass that changed something, so passes never call each other.
 */
public interface Pass {
  String name();

  /**
   * Passes that must come earlier in a pipeline that also has them, because this one relies on
   * their result; {@link Pipeline} refuses an order that breaks this.
   */
  default List<String> needs() {
    return List.of();
  }

  /**
   * Whether the graph is wrong without this pass (a lowering the backend relies on): such a pass
   * cannot be disabled.
   */
  default boolean required() {
    return false;
  }

  /**
   * Whether a change by this pass may leave dead nodes for the manager to remove. A pass that
   * removes what it replaces says false, so that at -O0 it does not take the program's own unused
   * nodes with it.
   */
  default boolean leavesDeadNodes() {
    return true;
  }

  /** Runs once over {@code g}, reporting rewrites and notes to {@code cx}; whether it changed g. */
  boolean run(Graph g, PassContext cx);
}
