package dev.cmod.cli;

import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.onnx.OnnxImports;
import dev.cmod.onnx.Precision;
import dev.cmod.onnx.Target;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options of every command that compiles (a picocli mixin): which model, weights, seed, -O
 * level and error format, turned into one {@link CompileOptions}, and the backend's target and
 * precision, which go to the emitter (the compiler's passes are the same for every target and
 * precision).
 */
class CompileOpts {
  @Option(names = "--model", description = "Which model of the file (default: the last one).")
  String model;

  @Option(names = "--weights", description = "Safetensors file with parameter values by path.")
  Path weights;

  @Option(
      names = "--seed",
      description = "Seed of random initializers (default: ${DEFAULT-VALUE}).",
      defaultValue = "0")
  long seed;

  @Option(names = "-O0", description = "No optimization.")
  boolean o0;

  @Option(names = "-O1", description = "Dead code elimination, constant folding, CSE.")
  boolean o1;

  @Option(names = "-O2", description = "-O1 plus algebraic simplification to a fixpoint (default).")
  boolean o2;

  @Option(
      names = "--error-format",
      description = "human or json (default: ${DEFAULT-VALUE}).",
      defaultValue = "human")
  String errorFormat;

  @Option(
      names = "--target",
      paramLabel = "TARGET",
      description =
          "What the backend may emit: onnx17 (primitives, the default), onnx20 (+Gelu), onnx23"
              + " (+Attention, RMSNormalization) or ort (ONNX Runtime's com.microsoft fused ops).")
  String target;

  @Option(
      names = "--precision",
      paramLabel = "P",
      description =
          "f32 (as declared, the default) or f16: parameters stored and arithmetic done in half"
              + " precision, norms, softmax and reductions kept f32, inputs and outputs as"
              + " declared.")
  String precision;

  /** The chosen precision (f32 when none is given). */
  Precision precision() {
    if (precision == null) {
      return Precision.F32;
    }
    try {
      return Precision.parse(precision);
    } catch (IllegalArgumentException e) {
      throw Main.usageError("--precision: " + e.getMessage());
    }
  }

  @Option(
      names = "--adapters",
      paramLabel = "MODE",
      description =
          "How LoRA and IA3 factors are compiled: merged (into the weights, the default), runtime"
              + " (inputs of one base artifact with their compiled values as defaults; adapter"
              + " files replace them per run) or runtime-stacked (every --adapter-weights adapter"
              + " stacked in, picked per example by the input adapter_index).")
  String adapters;

  @Option(
      names = "--adapter-weights",
      paramLabel = "NAME=FILE.safetensors",
      description =
          "An adapter's LoRA/IA3 values by parameter path (repeatable): written as"
              + " NAME.onnx_adapter (runtime) or stacked as index i (runtime-stacked).")
  java.util.List<String> adapterWeights = new java.util.ArrayList<>();

  @CommandLine.Mixin PassFlags passFlags;

  private dev.cmod.compiler.sema.AdapterPlan plan;

  /** The adapter layout these flags choose (the files are read once). */
  dev.cmod.compiler.sema.AdapterPlan adapterPlan() {
    if (plan == null) {
      plan = Adapters.plan(adapters, adapterWeights);
    }
    return plan;
  }

  /** The chosen target (onnx17 when none is given). */
  Target target() {
    if (target == null) {
      return Target.ONNX17;
    }
    try {
      return Target.parse(target);
    } catch (IllegalArgumentException e) {
      throw Main.usageError("--target: " + e.getMessage());
    }
  }

  int level() {
    int n = (o0 ? 1 : 0) + (o1 ? 1 : 0) + (o2 ? 1 : 0);
    if (n > 1) {
      throw Main.usageError("give only one of -O0, -O1, -O2");
    }
    return o0 ? 0 : o1 ? 1 : 2;
  }

  /** The progress line of this command on a terminal (null elsewhere). */
  final Progress progress = Progress.forTerminal();

  /** The options these flags choose, with the ONNX backend for {@code import onnx}. */
  CompileOptions options() {
    var passes = passFlags.options();
    return new CompileOptions.Builder()
        .model(model)
        .weightsFile(weights)
        .seed(seed)
        .optLevel(level())
        .passes(progress == null ? passes : passes.with(progress))
        .onnxImports(OnnxImports.SERVICE)
        .adapters(adapterPlan())
        .build();
  }

  /**
   * Compiles {@code file} with these options to ONNX and prints its diagnostics in the chosen
   * format.
   */
  Toolchain.Compiled compileOrReport(Path file) {
    if (!"human".equals(errorFormat) && !"json".equals(errorFormat)) {
      throw Main.usageError("--error-format must be human or json");
    }
    if (progress != null) {
      progress.step("compiling " + file + " (reading and importing)");
    }
    Toolchain.Compiled c = Toolchain.compile(file, options(), target(), precision());
    if (progress != null) {
      progress.done();
    }
    DiagnosticPrinter.print(c.result().diagnostics(), errorFormat);
    return c;
  }
}
