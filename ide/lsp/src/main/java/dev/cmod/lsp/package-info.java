/**
 * The language server (LSP4J over standard input and output): diagnostics from the compiler as the
 * user types, completion and hover from the builtin and standard-library tables, with limits on
 * message size and compile time so that no editor input can stall it.
 */
package dev.cmod.lsp;
