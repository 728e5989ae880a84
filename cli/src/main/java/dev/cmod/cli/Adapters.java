package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.compiler.sema.AdapterPlan;
import dev.cmod.ir.graph.AdapterInterface;
import dev.cmod.ir.io.AtomicFiles;
import dev.cmod.ir.io.SafeFiles;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxAdapterFile;
import dev.cmod.onnx.RunAdapter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line's side of run-time adapters: {@code --adapters MODE} and {@code
 * --adapter-weights NAME=FILE} become the compiler's {@link AdapterPlan}; {@code cmod compile
 * --adapter-out DIR} writes each adapter as {@code DIR/NAME.onnx_adapter} after checking it against
 * the artifact's interface; {@code cmod run --adapter FILE} loads one for the run. Every refusal is
 * a {@code CM064x} message.
 */
final class Adapters {
  private Adapters() {}

  /** The plan for {@code --adapters mode} with these {@code NAME=FILE.safetensors} adapters. */
  static AdapterPlan plan(String mode, List<String> specs) {
    AdapterPlan.Mode m =
        switch (mode == null ? "merged" : mode) {
          case "merged" -> AdapterPlan.Mode.MERGED;
          case AdapterInterface.RUNTIME -> AdapterPlan.Mode.RUNTIME;
          case AdapterInterface.STACKED -> AdapterPlan.Mode.STACKED;
          default ->
              throw Main.usageError(
                  "--adapters must be merged, runtime or runtime-stacked, got '"
                      + Excerpt.of(mode, 100)
                      + "'");
        };
    if (m == AdapterPlan.Mode.MERGED && !specs.isEmpty()) {
      throw new UserError(
          DiagnosticCode.ADAPTER_OPTION,
          "--adapter-weights needs --adapters runtime or runtime-stacked (merged adapters are"
              + " given with --weights)");
    }
    List<AdapterPlan.Adapter> adapters = new ArrayList<>();
    for (String spec : specs) {
      int eq = spec.indexOf('=');
      if (eq <= 0 || eq == spec.length() - 1) {
        throw Main.usageError(
            "--adapter-weights needs NAME=FILE.safetensors, got '" + Excerpt.of(spec, 200) + "'");
      }
      String name = spec.substring(0, eq);
      if (!name.matches("[A-Za-z0-9_][A-Za-z0-9_.-]*")) {
        throw Main.usageError(
            "an adapter's name is used as a file name: letters, digits, _ . - only, got '"
                + Excerpt.of(name, 100)
                + "'");
      }
      if (adapters.stream().anyMatch(a -> a.name().equals(name))) {
        throw Main.usageError("adapter '" + name + "' is given twice");
      }
      Path file = Path.of(spec.substring(eq + 1));
      Map<String, Tensor> w;
      try {
        w = Safetensors.read(file, SafeFiles.Policy.USER);
      } catch (RuntimeException e) {
        throw new UserError(
            DiagnosticCode.WEIGHTS_FILE,
            "cannot read adapter weights " + file + ": " + e.getMessage());
      }
      adapters.add(new AdapterPlan.Adapter(name, w, file.toString()));
    }
    return new AdapterPlan(m, adapters);
  }

  /**
   * The tensors of every adapter of a runtime plan, by adapter name, each checked against the
   * compiled artifact's interface; a value in another float type is converted to the parameter's,
   * as {@code --weights} does.
   */
  static Map<String, Map<String, Tensor>> check(AdapterPlan plan, AdapterInterface iface) {
    Map<String, Map<String, Tensor>> out = new LinkedHashMap<>();
    for (AdapterPlan.Adapter a : plan.adapters()) {
      Map<String, Tensor> params = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : a.weights().entrySet()) {
        AdapterInterface.Param p = iface.find(e.getKey());
        Tensor t = e.getValue();
        if (p != null && t.isFloat() && p.dtype().isFloat() && t.dtype() != p.dtype()) {
          t = Tensor.ofFloats(p.dtype(), t.shape(), t.floats());
        }
        params.put(e.getKey(), t);
      }
      check(params, iface, "adapter '" + a.name() + "' (" + a.source() + ")");
      out.put(a.name(), params);
    }
    return out;
  }

  /** Writes checked adapters as {@code dir/NAME.onnx_adapter}, all or none. */
  static void write(Map<String, Map<String, Tensor>> adapters, Path dir) {
    Map<Path, byte[]> files = new LinkedHashMap<>();
    for (Map.Entry<String, Map<String, Tensor>> a : adapters.entrySet()) {
      files.put(
          dir.resolve(a.getKey() + ".onnx_adapter"), OnnxAdapterFile.write(a.getValue(), 1, 1));
    }
    AtomicFiles.writeAll(files);
    for (Map.Entry<Path, byte[]> f : files.entrySet()) {
      Main.out.println("wrote " + f.getKey() + " (" + f.getValue().length + " bytes, adapter)");
    }
  }

  /** Reads, checks and loads {@code file} for runs of an artifact with this interface. */
  static RunAdapter load(Path file, AdapterInterface iface, String model) {
    if (iface == null) {
      throw new UserError(
          DiagnosticCode.ADAPTER_FILE,
          model
              + " was compiled without run-time adapters (no cmod.adapters metadata); compile it"
              + " with --adapters runtime to apply "
              + file);
    }
    if (AdapterInterface.STACKED.equals(iface.mode())) {
      throw new UserError(
          DiagnosticCode.ADAPTER_FILE,
          model
              + " has its adapters stacked in ("
              + String.join(", ", iface.adapters())
              + "): pick one per example with the input "
              + iface.indexInput()
              + " instead of --adapter");
    }
    byte[] bytes;
    try {
      bytes = SafeFiles.readAll(file, SafeFiles.Policy.USER, SafeFiles.MAX_WHOLE_FILE);
    } catch (IOException e) {
      throw new UserError(
          DiagnosticCode.ADAPTER_FILE,
          "cannot read adapter " + file + ": " + SafeFiles.describe(e));
    }
    String name = file.getFileName().toString().replaceFirst("\\.onnx_adapter$", "");
    try {
      return RunAdapter.load(name, bytes, iface);
    } catch (OnnxAdapterFile.AdapterFileException e) {
      throw new UserError(DiagnosticCode.ADAPTER_FILE, file + ": " + e.getMessage());
    } catch (RunAdapter.MismatchException e) {
      throw mismatch(e, "adapter " + file);
    }
  }

  private static void check(Map<String, Tensor> params, AdapterInterface iface, String what) {
    try {
      RunAdapter.check(params, iface);
    } catch (RunAdapter.MismatchException e) {
      throw mismatch(e, what);
    }
  }

  private static UserError mismatch(RunAdapter.MismatchException e, String what) {
    return new UserError(
        e.unknownName ? DiagnosticCode.ADAPTER_UNKNOWN : DiagnosticCode.ADAPTER_MISMATCH,
        what + ": " + e.getMessage());
  }
}
