package dev.cmod.cli;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.sema.CompileOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cmod explain}: what a diagnostic code means, or what a file's models are (inputs, outputs,
 * parameters, cost), as declared unless -O1/-O2 is given.
 */
@Command(
    name = "explain",
    mixinStandardHelpOptions = true,
    description =
        "Explain a diagnostic code (cmod explain CM0201) or a file's models (inputs, outputs, parameters, cost).")
final class ExplainCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE.cmod|CMxxxx")
  String what;

  @Option(names = "--auto-source", description = "Also print the source auto(...) synthesized.")
  boolean autoSource;

  @Option(names = "--passes", description = "What each optimization pass changed, per model.")
  boolean passes;

  @CommandLine.Mixin CompileOpts o;

  @Override
  public Integer call() {
    if (what.matches("(?i)CM\\d{1,4}")) {
      DiagnosticCode c =
          DiagnosticCode.byId(String.format("CM%04d", Integer.parseInt(what.substring(2))));
      if (c == null) {
        throw new UserError(
            DiagnosticCode.CONTEXT,
            "no diagnostic "
                + what.toUpperCase(Locale.ROOT)
                + "; codes run from "
                + DiagnosticCode.SYNTAX.id()
                + " to "
                + DiagnosticCode.INTERNAL.id());
      }
      Main.out.println(c.id() + ": " + c.title + " (" + c.severity.text() + ")");
      Main.out.println();
      Main.out.println(c.explanation);
      return ExitCodes.OK;
    }
    Path file = Path.of(what);
    if (passes) {
      return PassFlags.explain(file, o);
    }
    CompileOptions given = o.options();
    // the model as declared (parameters before -O2 folds LoRA factors into weights) unless
    // -O1/-O2 is asked for
    CompileOptions base = o.o1 || o.o2 ? given : given.withOptLevel(0);
    List<Compilation.Result> results = Compilation.compileAll(file, base);
    Compilation.Result first = results.get(0);
    if (first.diagnostics().hasErrors()) {
      DiagnosticPrinter.print(first.diagnostics(), o.errorFormat);
      return ExitCodes.ERRORS;
    }
    boolean ok = true;
    // in file order
    for (String m : o.model != null ? List.of(first.model()) : first.models()) {
      Compilation.Result r =
          results.stream().filter(x -> m.equals(x.model())).findFirst().orElseThrow();
      if (!r.ok()) {
        DiagnosticPrinter.print(r.diagnostics(), o.errorFormat);
        ok = false;
        continue;
      }
      Main.out.print(Explain.model(r, autoSource));
      if (o.target != null) {
        Main.out.print(Explain.target(r, o.target(), o.precision()));
      }
      if (o.precision != null) {
        Main.out.print(Explain.precision(r, o.target(), o.precision()));
      }
    }
    return ok ? ExitCodes.OK : ExitCodes.ERRORS;
  }
}
