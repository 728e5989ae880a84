/**
 * The graph IR: {@link dev.cmod.ir.graph.Graph} (a JGraphT DAG of nodes with ordered operands),
 * nodes, values and their types, attributes, and the verifier that checks a graph's invariants
 * after it is built or changed.
 */
package dev.cmod.ir.graph;
