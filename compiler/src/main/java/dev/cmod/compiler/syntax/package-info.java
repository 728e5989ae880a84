/**
 * Parsing: runs the ANTLR lexer and parser generated from the grammar module, turns syntax errors
 * into diagnostics with source locations, and builds the AST.
 */
package dev.cmod.compiler.syntax;
