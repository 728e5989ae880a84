package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;

/**
 * A graph rewrite. Stateless; {@code run} returns whether it changed anything. Outputs stay
 * numerically equal.
 */
public interface Pass {
  String name();

  boolean run(Graph g);
}
