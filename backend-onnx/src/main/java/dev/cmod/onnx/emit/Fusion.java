package dev.cmod.onnx.emit;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.rewrite.Match;
import dev.cmod.ir.rewrite.Pattern;
import dev.cmod.onnx.Target;
import java.util.List;
import java.util.Set;

/**
 * One rule of the backend's fusion step: a pattern over IR ops (the rule engine's {@link Pattern},
 * matched at its root without rewriting the graph), the targets that may emit the fused form, the
 * captured nodes the fused operator computes besides the root, and the lowering that emits it.
 *
 * <p>A rule does not change the IR: the IR has no ONNX-specific ops and every target compiles the
 * same graph, so fusion is a choice of how to emit a subgraph, made by {@link Legalizer} before the
 * lowerings run.
 *
 * @param name the rule's name (in {@code cmod explain} and the tests)
 * @param targets the targets that may emit it
 * @param pattern the subgraph, matched at the root node's first output
 * @param interior capture names of the nodes it replaces besides the root (their values must not be
 *     used outside the match, unless listed in {@code provided})
 * @param provided capture names among {@code interior} whose values the fused operator also writes
 *     (so others may read them, after the root)
 * @param lowering emits the fused operator
 */
record Fusion(
    String name,
    Set<Target> targets,
    Pattern pattern,
    List<String> interior,
    List<String> provided,
    Lowering lowering) {

  /** Emits the fused form of a match. */
  @FunctionalInterface
  interface Lowering {
    /**
     * Emits ONNX nodes through {@code cx} computing the root's outputs into {@code out} and every
     * provided value into its bound name.
     */
    void lower(LoweringContext cx, Match m, Node root, List<String> out);
  }
}
