package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;

/**
 * A hook the {@link PassManager} calls around the pipeline, the way tools observe passes without
 * the passes knowing: printing the IR, statistics, the change log. Instruments must not change the
 * graph.
 */
public interface PassInstrument {
  /** After each pass that ran (not a disabled one), its cleanup included. */
  default void afterPass(PassRun run, Graph g) {}

  /** After the whole pipeline. */
  default void afterPipeline(Graph g) {}
}
