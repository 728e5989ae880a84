/**
 * The compiler front door: {@link dev.cmod.compiler.Compilation} runs one compilation (load, parse,
 * elaborate, verify, optimize) and returns the graph with its diagnostics; {@link
 * dev.cmod.compiler.Cost} sums a graph's parameters and FLOPs for budgets and {@code cmod explain}.
 * The stages live in the sub-packages: syntax, ast, sema (elaboration), pass (optimization), diag.
 */
package dev.cmod.compiler;
