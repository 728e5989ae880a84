/**
 * The optimizer: graph-to-graph passes that keep every output numerically equal, and the pipelines
 * that run them per optimization level.
 */
package dev.cmod.compiler.pass;
