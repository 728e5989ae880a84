/** The {@code cmod} command line: compile, run, check, graph, explain. */
package dev.cmod.cli;
