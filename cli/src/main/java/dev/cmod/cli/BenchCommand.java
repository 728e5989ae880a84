package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.RunnerException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cmod bench}: compile and inference times, with ratios measured in the same run. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Time compilation and inference of a model; ratios against the interpreter and -O0 measured in the same run.")
final class BenchCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE.cmod")
  Path file;

  @Option(
      names = {"--iterations", "--runs"},
      description = "Timed runs per measurement (default: ${DEFAULT-VALUE}).",
      defaultValue = "20")
  int runs;

  @Option(
      names = "--threads",
      description = "ONNX Runtime intra-op threads (default: its own, one per core).",
      defaultValue = "0")
  int threads;

  @Option(
      names = "--input",
      paramLabel = "NAME=FILE",
      description = "An input, as for cmod run (repeatable); default: seeded random inputs.")
  java.util.List<String> inputs = new java.util.ArrayList<>();

  @Option(names = "--json", description = "Print the figures as JSON.")
  boolean json;

  @Option(
      names = "--against",
      paramLabel = "MODEL",
      description =
          "Another model of the file, run interleaved with the compiled one on the same inputs;"
              + " prints both latencies and their ratio.")
  String against;

  @Option(
      names = "--warmup",
      description = "Untimed warm-up runs (default: ${DEFAULT-VALUE}).",
      defaultValue = "5")
  int warmup;

  @CommandLine.Mixin DeviceOption device;

  @CommandLine.Mixin CompileOpts o;

  @Override
  public Integer call() {
    if (runs < 1 || warmup < 0 || threads < 0) {
      throw Main.usageError("--iterations must be >= 1, --warmup and --threads >= 0");
    }
    OnnxRunner.Device dev = device.device();
    try {
      java.util.Map<String, dev.cmod.ir.tensor.Tensor> given = null;
      if (!inputs.isEmpty()) {
        Toolchain.Compiled c = o.compileOrReport(file);
        if (!c.ok()) {
          return ExitCodes.ERRORS;
        }
        try (OnnxRunner r = OnnxRunner.open(c.onnx(), dev)) {
          given = RunCommand.readInputs(inputs, r.inputInfo());
        }
      }
      if (against != null) {
        BenchAgainst.run(file, o.options(), against, dev, threads, warmup, runs, 0, Main.out);
        return ExitCodes.OK;
      }
      Bench.Setup setup = new Bench.Setup(dev, warmup, runs, threads, given, json);
      Bench.run(file, o.options(), o.target(), o.precision(), setup, 0, Main.out);
    } catch (RunnerException e) {
      throw new UserError(DiagnosticCode.RUNTIME, e.getMessage());
    }
    return ExitCodes.OK;
  }
}
