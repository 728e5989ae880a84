/**
 * Diagnostics: the catalogue of codes ({@link dev.cmod.compiler.diag.DiagnosticCode}, one per kind
 * of problem, each with an explanation for {@code cmod explain}), spans into source files, the
 * bounded collector ({@link dev.cmod.compiler.diag.Diagnostics}) and the renderer that prints
 * {@code file:line:col: error[CMxxxx]} with the line, a caret and a help text.
 */
package dev.cmod.compiler.diag;
