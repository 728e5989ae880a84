/**
 * The abstract syntax tree of a .cmod file: immutable records built by {@code syntax.AstBuilder}
 * from the ANTLR parse tree, each carrying the source span that diagnostics point at.
 */
package dev.cmod.compiler.ast;
