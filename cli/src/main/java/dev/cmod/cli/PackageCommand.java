package dev.cmod.cli;

import dev.cmod.cli.deploy.Layout;
import dev.cmod.cli.deploy.LayoutWriter;
import dev.cmod.cli.deploy.PackageOptions;
import dev.cmod.cli.deploy.ServingFormat;
import dev.cmod.cli.deploy.ServingSignature;
import dev.cmod.compiler.diag.DiagnosticCode;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cmod package}: compiles a .cmod file as {@code cmod compile} does and writes the folder a
 * serving engine loads (the layouts live in {@code dev.cmod.cli.deploy}); the command only turns
 * options into {@link PackageOptions} and reports.
 */
@Command(
    name = "package",
    mixinStandardHelpOptions = true,
    description =
        "Compile a .cmod file and write a serving layout: a Triton model repository, a DJL"
            + " Serving model folder or a KServe InferenceService with its model repository.")
final class PackageCommand implements Callable<Integer> {
  /** Batch limit when neither --max-batch-size nor a where bound on the batch symbol gives one. */
  static final int DEFAULT_MAX_BATCH = 8;

  @Parameters(index = "0", paramLabel = "FILE.cmod")
  Path file;

  @Option(
      names = "--format",
      required = true,
      paramLabel = "FORMAT",
      description = "triton, djl or kserve.")
  String format;

  @Option(
      names = {"-o", "--output"},
      required = true,
      paramLabel = "DIR",
      description = "The layout's folder (created, or filled when it exists).")
  Path output;

  @Option(
      names = "--name",
      paramLabel = "NAME",
      description = "The model's name in the layout (default: the model's name in the source).")
  String name;

  @Option(
      names = "--max-batch-size",
      paramLabel = "N",
      description =
          "Largest batch the engine forms (default: the where bound of the batch symbol, else "
              + DEFAULT_MAX_BATCH
              + ").")
  Integer maxBatchSize;

  @Option(
      names = "--max-batch-delay-ms",
      paramLabel = "MS",
      defaultValue = "5",
      description = "Longest wait for a batch to fill (default: ${DEFAULT-VALUE} ms).")
  int maxBatchDelayMs;

  @Option(
      names = "--external-data",
      description =
          "Ship the weights as MODEL.onnx.data beside the model (done without asking over 2 GiB).")
  boolean externalData;

  @Option(
      names = "--storage-uri",
      paramLabel = "URI",
      defaultValue = "pvc://cmod-models/models",
      description =
          "kserve: where the cluster finds the layout's models/ folder (default: ${DEFAULT-VALUE}).")
  String storageUri;

  @CommandLine.Mixin CompileOpts o;

  @Override
  public Integer call() {
    ServingFormat f;
    try {
      f = ServingFormat.parse(format);
    } catch (IllegalArgumentException e) {
      throw Main.usageError("--format: " + e.getMessage());
    }
    if (name != null && !Layout.isPlainName(name)) {
      throw Main.usageError(
          "--name must be a plain file name (letters, digits, _ - .; not starting with .): "
              + name);
    }
    if (maxBatchSize != null && maxBatchSize < 1) {
      throw Main.usageError("--max-batch-size must be at least 1");
    }
    if (maxBatchDelayMs < 0) {
      throw Main.usageError("--max-batch-delay-ms must not be negative");
    }
    Toolchain.Compiled c = o.compileOrReport(file);
    if (!c.ok()) {
      return ExitCodes.ERRORS;
    }
    String modelName = name != null ? name : c.result().model();
    if (!Layout.isPlainName(modelName)) {
      throw Main.usageError("the model's name '" + modelName + "' is not a file name; give --name");
    }
    ServingSignature sig = ServingSignature.of(c.model());
    PackageOptions po =
        new PackageOptions(
            modelName, batchLimit(c, sig), maxBatchDelayMs, externalData, storageUri);
    Layout layout = f.layout(c.model(), po);
    List<Path> written;
    try {
      written = LayoutWriter.write(output, layout);
    } catch (LayoutWriter.LayoutException e) {
      throw new UserError(DiagnosticCode.PACKAGE_OUTPUT, e.getMessage());
    }
    Main.out.println(
        "wrote " + f.title + " layout of model " + c.result().model() + " to " + output + ":");
    for (Path p : written) {
      Main.out.println("  " + p);
    }
    if (!sig.batched()) {
      Main.out.println("note: no batch axis shared by every input and output: served unbatched");
    }
    return ExitCodes.OK;
  }

  /** --max-batch-size, else the where bound on the batch symbol, else the default. */
  private int batchLimit(Toolchain.Compiled c, ServingSignature sig) {
    if (maxBatchSize != null) {
      return maxBatchSize;
    }
    if (sig.batched() && c.result().facts() != null) {
      long[] bound = c.result().facts().bounds().get(sig.batchSymbol());
      if (bound != null && bound[1] != Long.MAX_VALUE) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, bound[1]));
      }
    }
    return DEFAULT_MAX_BATCH;
  }
}
