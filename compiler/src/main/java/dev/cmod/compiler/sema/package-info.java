/**
 * Semantic analysis: loading files and imports, name resolution, type checking and elaboration of a
 * model into an IR graph (module application, parameters, compositions, routing, {@code auto}).
 */
package dev.cmod.compiler.sema;
