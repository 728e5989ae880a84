package dev.cmod.cli;

import dev.cmod.ir.io.AtomicFiles;
import dev.cmod.onnx.ExternalDataWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cmod compile}: a .cmod file to an ONNX file. */
@Command(
    name = "compile",
    mixinStandardHelpOptions = true,
    description = "Compile a .cmod file to ONNX.")
final class CompileCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE.cmod")
  Path file;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "OUT.onnx",
      description = "Output file (default: FILE.onnx in the current folder).")
  Path output;

  @Option(
      names = "--external-data",
      description =
          "Write the weights to OUT.onnx.data beside the model (ONNX external data); done"
              + " without asking when they exceed 2 GiB.")
  boolean externalData;

  @Option(
      names = "--adapter-out",
      paramLabel = "DIR",
      description =
          "With --adapters runtime: the folder for the NAME.onnx_adapter files of the"
              + " --adapter-weights adapters (default: the output's folder).")
  Path adapterOut;

  @CommandLine.Mixin CompileOpts o;

  @Override
  public Integer call() throws IOException {
    dev.cmod.compiler.sema.AdapterPlan plan = o.adapterPlan();
    if (adapterOut != null && plan.mode() != dev.cmod.compiler.sema.AdapterPlan.Mode.RUNTIME) {
      throw new UserError(
          dev.cmod.compiler.diag.DiagnosticCode.ADAPTER_OPTION,
          "--adapter-out writes run-time adapter files: it needs --adapters runtime");
    }
    Toolchain.Compiled c = o.compileOrReport(file);
    if (!c.ok()) {
      return ExitCodes.ERRORS;
    }
    Path target = output != null ? output : Path.of(stem(file) + ".onnx");
    Map<String, Map<String, dev.cmod.ir.tensor.Tensor>> adapters = Map.of();
    if (plan.mode() == dev.cmod.compiler.sema.AdapterPlan.Mode.RUNTIME) {
      // checked before anything is written, so a wrong adapter leaves no base artifact behind
      dev.cmod.ir.graph.AdapterInterface iface =
          dev.cmod.ir.graph.AdapterInterface.parse(
              c.result().graph().metadata().get(dev.cmod.ir.graph.AdapterInterface.METADATA_KEY));
      adapters = Adapters.check(plan, iface);
    }
    if (o.progress != null) {
      o.progress.step("writing " + target);
    }
    try {
      write(target, c);
      if (!adapters.isEmpty()) {
        Adapters.write(
            adapters, adapterOut != null ? adapterOut : target.toAbsolutePath().getParent());
      }
    } finally {
      if (o.progress != null) {
        o.progress.done();
      }
    }
    return ExitCodes.OK;
  }

  private void write(Path target, Toolchain.Compiled c) {
    if (externalData || c.needsExternalData()) {
      writeWithExternalData(target, c);
      return;
    }
    // streamed from the message; only a regular file is replaced; a refusal is CM0600
    AtomicFiles.writeAllContents(Map.of(target, os -> c.model().writeTo(os)));
    Main.out.println(
        "wrote "
            + target
            + " ("
            + c.model().getSerializedSize()
            + " bytes, model "
            + c.result().model()
            + ")");
  }

  /**
   * The model and its weights as two files, written together or not at all: the data file beside
   * the model, named by the model's file name plus {@code .data}, which the model names without a
   * folder.
   */
  private static void writeWithExternalData(Path target, Toolchain.Compiled c) {
    String dataName = target.getFileName().toString() + ".data";
    Path data = target.resolveSibling(dataName);
    ExternalDataWriter.Split split = ExternalDataWriter.split(c.model(), dataName);
    Map<Path, AtomicFiles.Content> files = new LinkedHashMap<>();
    files.put(
        data,
        os -> {
          for (com.google.protobuf.ByteString b : split.chunks()) {
            b.writeTo(os);
          }
        });
    byte[] model = split.model().toByteArray();
    files.put(target, os -> os.write(model));
    AtomicFiles.writeAllContents(files);
    Main.out.println(
        "wrote "
            + target
            + " ("
            + model.length
            + " bytes, model "
            + c.result().model()
            + ") and its weights "
            + data
            + " ("
            + split.dataBytes()
            + " bytes)");
  }

  private static String stem(Path p) {
    String n = p.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }
}
