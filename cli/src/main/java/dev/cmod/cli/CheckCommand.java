package dev.cmod.cli;

import dev.cmod.compiler.Compilation;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code cmod check}: every model of a file compiled, nothing written; for editors and CI. */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    description = "Check a .cmod file without writing anything.")
final class CheckCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE.cmod")
  Path file;

  @CommandLine.Mixin CompileOpts o;

  @Override
  public Integer call() {
    List<Compilation.Result> results = Compilation.compileAll(file, o.options());
    boolean ok = true;
    for (Compilation.Result r : results) {
      DiagnosticPrinter.print(r.diagnostics(), o.errorFormat);
      ok &= r.ok();
    }
    List<String> models = results.get(0).models();
    if (ok) {
      Main.out.println(
          "ok: " + file + (models.isEmpty() ? "" : " (" + String.join(", ", models) + ")"));
    }
    return ok ? ExitCodes.OK : ExitCodes.ERRORS;
  }
}
