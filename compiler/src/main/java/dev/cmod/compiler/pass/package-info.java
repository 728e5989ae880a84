/**
 * The optimizer: passes over the IR graph, the -O pipelines ({@link
 * dev.cmod.compiler.pass.Pipeline}, one file with the reason for each position), the {@link
 * dev.cmod.compiler.pass.PassManager} that runs them with dead-code cleanup and verification, the
 * rule catalogues the rewrite passes apply ({@link dev.cmod.compiler.pass.AlgebraicRules}, {@link
 * dev.cmod.compiler.pass.FoldingRules}) and the instruments tools attach (print IR after a pass,
 * statistics, change log).
 */
package dev.cmod.compiler.pass;
