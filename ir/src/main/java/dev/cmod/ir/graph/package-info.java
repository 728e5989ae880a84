/**
 * The graph IR: {@link dev.cmod.ir.graph.Graph} (nodes in a JGraphT directed multigraph, operands
 * ordered), nodes, values and their types, attributes, and the verifier that checks a graph's
 * invariants after it is built or changed.
 */
package dev.cmod.ir.graph;
