package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.io.AtomicFiles;
import dev.cmod.onnx.OnnxImports;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cmod wrap}: writes a .cmod that imports an ONNX model and declares a model with its inputs
 * and outputs, ready to compile and run as is (see {@link Wrap}).
 */
@Command(
    name = "wrap",
    mixinStandardHelpOptions = true,
    description =
        "Write a .cmod file that imports an ONNX model and declares its inputs and outputs.")
final class WrapCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL.onnx")
  Path file;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "W.cmod",
      description = "Where to write the wrapper (default: print it).")
  Path output;

  @Option(
      names = "--name",
      paramLabel = "NAME",
      description = "The wrapper model's name (default: from the file name).")
  String name;

  @Override
  public Integer call() throws IOException {
    byte[] bytes = RunCommand.readOnnx(file);
    Path dir = file.toAbsolutePath().getParent();
    ImportedModule m;
    try {
      m = OnnxImports.SERVICE.load(bytes, dir);
    } catch (ImportedModule.ImportException e) {
      throw new UserError(DiagnosticCode.ONNX_FILE, file + ": " + e.getMessage());
    }
    String stem = stem(file);
    String model = name != null ? name : camel(stem);
    if (!model.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw Main.usageError("--name must be an identifier, got '" + model + "'");
    }
    String alias = model.equals("Imported") ? "Net" : "Imported";
    // the import path is relative to the wrapper (the language resolves it from the file that
    // names it)
    Path base =
        output != null && output.toAbsolutePath().getParent() != null
            ? output.toAbsolutePath().getParent()
            : Path.of("").toAbsolutePath();
    String path = base.relativize(file.toAbsolutePath()).toString().replace('\\', '/');
    String src = Wrap.source(m, path, alias, model);
    if (output == null) {
      Main.out.print(src);
    } else {
      AtomicFiles.write(output, src.getBytes(StandardCharsets.UTF_8));
      Main.out.println("wrote " + output + " (model " + model + ", importing " + path + ")");
    }
    return ExitCodes.OK;
  }

  private static String stem(Path p) {
    String n = p.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }

  /** {@code squeezenet1.1} → {@code Squeezenet11}; a name that has no letter → {@code Model}. */
  static String camel(String s) {
    StringBuilder sb = new StringBuilder();
    boolean up = true;
    for (char c : s.toCharArray()) {
      if (c < 128 && Character.isLetterOrDigit(c)) {
        sb.append(up ? Character.toUpperCase(c) : c);
        up = false;
      } else {
        up = true;
      }
    }
    String out = sb.toString();
    if (out.isEmpty() || !Character.isLetter(out.charAt(0))) {
      out = "Model" + out;
    }
    return out;
  }
}
