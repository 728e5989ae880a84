package dev.cmod.cli;

import dev.cmod.compiler.Compilation;
import dev.cmod.ir.print.DotPrinter;
import dev.cmod.ir.print.TextPrinter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cmod graph}: the optimized IR of a model, as Graphviz DOT or as text. */
@Command(
    name = "graph",
    mixinStandardHelpOptions = true,
    description = "Print the model's IR as Graphviz DOT (or text).")
final class GraphCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE.cmod")
  Path file;

  @Option(
      names = "--format",
      description = "dot or text (default: ${DEFAULT-VALUE}).",
      defaultValue = "dot")
  String format;

  @CommandLine.Mixin CompileOpts o;

  @Override
  public Integer call() {
    if (!format.equals("dot") && !format.equals("text")) {
      throw Main.usageError("--format must be dot or text");
    }
    Compilation.Result r = Compilation.compile(file, o.options());
    DiagnosticPrinter.print(r.diagnostics(), o.errorFormat);
    if (!r.ok()) {
      return ExitCodes.ERRORS;
    }
    Main.out.print(
        format.equals("dot") ? DotPrinter.print(r.graph()) : TextPrinter.print(r.graph()));
    return ExitCodes.OK;
  }
}
