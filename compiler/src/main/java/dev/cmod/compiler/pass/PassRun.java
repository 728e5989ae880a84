package dev.cmod.compiler.pass;

import java.util.List;
import java.util.Map;

/**
 * What one run of one pass did, as instruments see it.
 *
 * @param pass the pass's name
 * @param round the round of its {@link Pipeline.Repeat} (1 outside one)
 * @param changed whether it changed the graph
 * @param nanos its time, the dead-code cleanup after it included
 * @param counts rewrites by kind (rule names for rule passes), only kinds that happened
 * @param notes one line per change, in order
 * @param nodesBefore the node count before it ran
 * @param nodesAfter the node count after it and its cleanup
 */
public record PassRun(
    String pass,
    int round,
    boolean changed,
    long nanos,
    Map<String, Integer> counts,
    List<String> notes,
    int nodesBefore,
    int nodesAfter) {}
