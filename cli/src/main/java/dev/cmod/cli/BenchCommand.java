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

  @CommandLine.Mixin DeviceOption device;

  @CommandLine.Mixin CompileOpts o;

  @Override
  public Integer call() {
    if (runs < 1 || warmup < 0) {
      throw Main.usageError("--runs must be >= 1 and --warmup >= 0");
    }
    OnnxRunner.Device dev = device.device();
    try {
      Bench.run(file, o.options(), o.target(), dev, warmup, runs, 0, Main.out);
    } catch (RunnerException e) {
      throw new UserError(DiagnosticCode.RUNTIME, e.getMessage());
    }
    return ExitCodes.OK;
  }
}
