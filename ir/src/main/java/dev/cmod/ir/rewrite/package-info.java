/**
 * The rewrite engine every optimization that replaces local subgraphs is built on. A {@link
 * dev.cmod.ir.rewrite.Rule} names a {@link dev.cmod.ir.rewrite.Pattern} over ops and operands, a
 * cheap predicate and a rewrite that changes the graph only through a {@link
 * dev.cmod.ir.rewrite.Rewriter}, which records every change; {@link dev.cmod.ir.rewrite.RuleSet}
 * orders rules, and {@link dev.cmod.ir.rewrite.RewriteDriver} applies a set in graph order until
 * nothing changes or an iteration cap is reached, counting rewrites per rule. Keeping all edits
 * behind the rewriter is what lets the pass manager log, count and verify what rules did.
 */
package dev.cmod.ir.rewrite;
