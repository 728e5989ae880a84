package dev.cmod.cli;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cmod export-weights}: every parameter of a model, as declared (-O0), into a safetensors
 * file that {@code --weights} reads back.
 */
@Command(
    name = "export-weights",
    mixinStandardHelpOptions = true,
    description =
        "Write every parameter of a model to a safetensors file, keyed by parameter path.")
final class ExportWeightsCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE.cmod")
  Path file;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "W.safetensors",
      required = true,
      description = "Output file.")
  Path output;

  @CommandLine.Mixin CompileOpts o;

  @Override
  public Integer call() throws IOException {
    CompileOptions base = o.options();
    // parameters as declared: no folding or merging
    Compilation.Result r = Compilation.compile(file, base.withOptLevel(0));
    DiagnosticPrinter.print(r.diagnostics(), o.errorFormat);
    if (!r.ok()) {
      return ExitCodes.ERRORS;
    }
    Map<String, Tensor> params = new java.util.TreeMap<>();
    for (Node n : r.graph().nodes()) {
      if (n.op() == Op.PARAM) {
        params.put(n.attrs().getString("path"), n.attrs().getTensor("value"));
      }
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("cmod.model", r.model());
    meta.put("cmod.source", file.getFileName().toString());
    dev.cmod.ir.io.Safetensors.write(output, params, meta);
    Main.out.println(
        "wrote " + output + " (" + params.size() + " tensors, model " + r.model() + ")");
    return ExitCodes.OK;
  }
}
