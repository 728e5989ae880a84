/**
 * The optimizer: passes over the IR graph, the -O pipelines ({@link
 * dev.cmod.compiler.pass.Pipeline}, one file with the reason for each position), the {@link
 * dev.cmod.compiler.pass.PassManager} that runs them with dead-code cleanup and verification, the
 * rule catalogues the rewrite passes apply ({@link dev.cmod.compiler.pass.AlgebraicRules}, {@link
 * dev.cmod.compiler.pass.FoldingRules}) and the instruments tools attach (print IR after a pass,
 * statistics, change log). Routing has two passes of its own: {@link
 * dev.cmod.compiler.pass.LowerRouting} (the dense form, every level) and, at -O2 before it, {@code
 * SparseRouting} (sparse dispatch where a cost model favors it).
 */
package dev.cmod.compiler.pass;
