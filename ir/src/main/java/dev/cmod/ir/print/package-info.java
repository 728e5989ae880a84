/**
 * Deterministic renderings of a graph: a line-per-node text form ({@link
 * dev.cmod.ir.print.TextPrinter}) and Graphviz DOT ({@link dev.cmod.ir.print.DotPrinter}).
 */
package dev.cmod.ir.print;
