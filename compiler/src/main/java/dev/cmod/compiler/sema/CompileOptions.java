package dev.cmod.compiler.sema;

import dev.cmod.compiler.pass.PassOptions;
import dev.cmod.ir.graph.OnnxImportService;
import dev.cmod.ir.tensor.Tensor;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a caller can choose about one compilation, in one value: the CLI, the language server,
 * tests and embedding programs build it the same way ({@link #defaults()} and the {@code with...}
 * methods, or {@link #toBuilder()} for several changes), and the services a compilation needs from
 * outside the compiler travel in it instead of in process-wide state. The elaborator reads the same
 * record: {@link dev.cmod.compiler.Compilation} hands it a copy whose {@link #weights} hold every
 * value found (given in memory, in {@link #weightsFile}, and in the model's {@code weights} items).
 *
 * @param model which model of the file to compile (null: the file's last)
 * @param weightsFile a safetensors file of parameter values by path (the CLI's --weights), or null
 * @param seed seed of the random initializers
 * @param optLevel 0, 1 or 2
 * @param passes the pass manager's options: disabled passes, verification after each pass,
 *     instruments (print IR after a pass, statistics, change log)
 * @param onnxImports what {@code import onnx} uses to check and import a model; null: the
 *     compilation refuses {@code import onnx}
 * @param weights parameter values by path, in the order they were read (kept in that order: it is
 *     the order of the diagnostics about them)
 * @param weightsName the name of the weights' source, for messages (null when there are none)
 * @param adapters how LoRA and IA³ factors are compiled: merged (the default), run-time inputs, or
 *     stacked per example
 */
public record CompileOptions(
    String model,
    Path weightsFile,
    long seed,
    int optLevel,
    PassOptions passes,
    OnnxImportService onnxImports,
    Map<String, Tensor> weights,
    String weightsName,
    AdapterPlan adapters) {
  public CompileOptions {
    passes = passes == null ? PassOptions.NONE : passes;
    adapters = adapters == null ? AdapterPlan.MERGED_PLAN : adapters;
    weights = Collections.unmodifiableMap(new LinkedHashMap<>(weights));
  }

  /** The last model of the file, no weights, seed 0, -O2, no ONNX import. */
  public static CompileOptions defaults() {
    return new Builder().build();
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  public CompileOptions withModel(String m) {
    return toBuilder().model(m).build();
  }

  public CompileOptions withOptLevel(int level) {
    return toBuilder().optLevel(level).build();
  }

  public CompileOptions withPasses(PassOptions p) {
    return toBuilder().passes(p).build();
  }

  public CompileOptions withSeed(long s) {
    return toBuilder().seed(s).build();
  }

  public CompileOptions withWeightsFile(Path file) {
    return toBuilder().weightsFile(file).build();
  }

  public CompileOptions withOnnxImports(OnnxImportService service) {
    return toBuilder().onnxImports(service).build();
  }

  /** Builds options one choice at a time, starting from {@link #defaults()} or given options. */
  public static final class Builder {
    private String model;
    private Path weightsFile;
    private long seed;
    private int optLevel = 2;
    private PassOptions passes = PassOptions.NONE;
    private OnnxImportService onnxImports;
    private Map<String, Tensor> weights = Map.of();
    private String weightsName;
    private AdapterPlan adapters = AdapterPlan.MERGED_PLAN;

    public Builder() {}

    private Builder(CompileOptions o) {
      model = o.model;
      weightsFile = o.weightsFile;
      seed = o.seed;
      optLevel = o.optLevel;
      passes = o.passes;
      onnxImports = o.onnxImports;
      weights = o.weights;
      weightsName = o.weightsName;
      adapters = o.adapters;
    }

    public Builder model(String m) {
      model = m;
      return this;
    }

    public Builder weightsFile(Path file) {
      weightsFile = file;
      return this;
    }

    public Builder seed(long s) {
      seed = s;
      return this;
    }

    public Builder optLevel(int level) {
      optLevel = level;
      return this;
    }

    public Builder passes(PassOptions p) {
      passes = p;
      return this;
    }

    public Builder onnxImports(OnnxImportService service) {
      onnxImports = service;
      return this;
    }

    /** Parameter values by path and the name their source goes by in messages. */
    public Builder weights(Map<String, Tensor> values, String name) {
      weights = values;
      weightsName = name;
      return this;
    }

    /** How LoRA and IA³ factors are compiled (default: merged). */
    public Builder adapters(AdapterPlan plan) {
      adapters = plan;
      return this;
    }

    public CompileOptions build() {
      return new CompileOptions(
          model, weightsFile, seed, optLevel, passes, onnxImports, weights, weightsName, adapters);
    }
  }
}
