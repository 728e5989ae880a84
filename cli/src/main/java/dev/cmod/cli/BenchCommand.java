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
      names = "--runs",
      description = "Timed runs per measurement (default: ${DEFAULT-VALUE}).",
      defaultValue = "20")
  int runs;

  @Option(
      names = "--warmup",
      description = "Untimed warm-up runs (default: ${DEFAULT-VALUE}).",
      defaultValue = "5")
  int warmup;

  @Option(
      names = "--threads",
      description =
          "Threads ONNX Runtime uses within an operator (default: ${DEFAULT-VALUE}, its own"
              + " default: one per core).",
      defaultValue = "0")
  int threads;

  @Option(
      names = "--against",
      paramLabel = "MODEL",
      description =
          "Another model of the file, run interleaved with the compiled one on the same inputs;"
              + " prints both latencies and their ratio.")
  String against;

  @CommandLine.Mixin DeviceOption device;

  @CommandLine.Mixin CompileOpts o;

  @Override
  public Integer call() {
    if (runs < 1 || warmup < 0 || threads < 0) {
      throw Main.usageError("--runs must be >= 1, --warmup and --threads >= 0");
    }
    OnnxRunner.Device dev = device.device();
    try {
      if (against != null) {
        BenchAgainst.run(file, o.options(), against, dev, threads, warmup, runs, 0, Main.out);
      } else {
        Bench.run(file, o.options(), dev, threads, warmup, runs, 0, Main.out);
      }
    } catch (RunnerException e) {
      throw new UserError(DiagnosticCode.RUNTIME, e.getMessage());
    }
    return ExitCodes.OK;
  }
}
