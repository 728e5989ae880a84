package dev.cmod.cli;

import dev.cmod.ir.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
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

  @CommandLine.Mixin CompileOpts o;

  @Override
  public Integer call() throws IOException {
    Toolchain.Compiled c = o.compileOrReport(file);
    if (!c.ok()) {
      return ExitCodes.ERRORS;
    }
    Path target = output != null ? output : Path.of(stem(file) + ".onnx");
    AtomicFiles.write(target, c.onnx()); // only a regular file is replaced; a refusal is CM0600
    Main.out.println(
        "wrote " + target + " (" + c.onnx().length + " bytes, model " + c.result().model() + ")");
    return ExitCodes.OK;
  }

  private static String stem(Path p) {
    String n = p.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }
}
