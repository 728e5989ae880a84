package dev.cmod.cli;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.pass.ChangeLog;
import dev.cmod.compiler.pass.PassManager;
import dev.cmod.compiler.pass.PassOptions;
import dev.cmod.compiler.pass.PassStatistics;
import dev.cmod.compiler.pass.Pipeline;
import dev.cmod.compiler.pass.PrintIrAfter;
import dev.cmod.compiler.sema.CompileOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The pass-manager options every compiling command shares: what to print, skip, count and verify
 * while the optimizer runs. What they print goes to stderr, so a command's stdout (an artifact
 * message, a graph, an explanation) is the same with or without them.
 */
final class PassFlags {
  @Option(
      names = "--print-ir-after",
      paramLabel = "NAME|all",
      description = "Print the IR text to stderr after every run of the named pass (or of all).")
  String printIrAfter;

  @Option(
      names = "--disable-pass",
      paramLabel = "NAME",
      description =
          "Skip the named pass (repeatable); dce skips its own steps, not the cleanup after a changed pass.")
  List<String> disabled = new ArrayList<>();

  @Option(
      names = "--pass-stats",
      description = "Print time and rewrites per pass and per rule to stderr.")
  boolean stats;

  @Option(
      names = "--verify-each",
      description = "Verify the IR after every pass (a broken pass is then an internal error).")
  boolean verifyEach;

  /** The pass options these flags ask for; an unknown pass name is a usage error (exit 2). */
  PassOptions options() {
    for (String d : disabled) {
      if (!Pipeline.knownPasses().contains(d)) {
        throw usage(d);
      }
      if (Pipeline.requiredPasses().contains(d)) {
        throw new CommandLine.ParameterException(
            new CommandLine(new Main()),
            "pass '"
                + d
                + "' cannot be disabled: the passes after it and the ONNX backend rely on it");
      }
    }
    PassOptions o = new PassOptions(Set.copyOf(disabled), verifyEach, List.of());
    if (printIrAfter != null) {
      if (!PrintIrAfter.ALL.equals(printIrAfter)
          && !Pipeline.knownPasses().contains(printIrAfter)) {
        throw usage(printIrAfter);
      }
      o = o.with(new PrintIrAfter(printIrAfter, Main.err));
    }
    if (stats) {
      o = o.with(new PassStatistics(Main.err));
    }
    return o;
  }

  private static CommandLine.ParameterException usage(String name) {
    return new CommandLine.ParameterException(
        new CommandLine(new Main()), PassManager.unknownPass(name));
  }

  /**
   * {@code cmod explain --passes FILE}: per model, the pipeline of the chosen level (-O2 unless
   * another is given) and what each of its passes changed, on stdout.
   */
  static int explain(Path file, CompileOpts o) {
    CompileOptions base = o.options();
    // the model names, from a compilation without passes or instruments
    Compilation.Result first =
        Compilation.compile(file, base.withOptLevel(0).withPasses(PassOptions.NONE));
    if (first.diagnostics().hasErrors()) {
      DiagnosticPrinter.print(first.diagnostics(), o.errorFormat);
      return ExitCodes.ERRORS;
    }
    boolean ok = true;
    for (String m : o.model != null ? List.of(first.model()) : first.models()) {
      ChangeLog log = new ChangeLog();
      Compilation.Result r =
          Compilation.compile(file, base.withModel(m).withPasses(base.passes().with(log)));
      if (!r.ok()) {
        DiagnosticPrinter.print(r.diagnostics(), o.errorFormat);
        ok = false;
        continue;
      }
      Main.out.print(
          "model "
              + m
              + ": "
              + Pipeline.forLevel(base.optLevel()).describe()
              + "what changed:\n"
              + log.render());
    }
    return ok ? ExitCodes.OK : ExitCodes.ERRORS;
  }
}
