/**
 * The {@code cmod} command line: {@link dev.cmod.cli.Main} (the picocli root and the entry point),
 * one class per command ({@code CompileCommand}, {@code CheckCommand}, {@code GraphCommand}, {@code
 * ExplainCommand}, {@code RunCommand}, {@code ExportWeightsCommand}, {@code BenchCommand}, {@code
 * ServeCommand} with its server in {@code dev.cmod.cli.serve}), the option mixin they share ({@code
 * CompileOpts}), and the steps they are made of ({@link dev.cmod.cli.Toolchain}, input checks,
 * output naming, diagnostics printing).
 */
package dev.cmod.cli;
