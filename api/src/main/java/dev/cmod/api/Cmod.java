package dev.cmod.api;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.graph.OnnxImportService;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.onnx.OnnxImports;
import dev.cmod.onnx.Target;
import java.nio.file.Path;

/**
 * The entry point for Java programs that embed cmod. A {@code Cmod} is a compiler configuration —
 * the options {@code cmod compile} takes (model, weights, seed, -O level, target) and the service
 * that {@code import onnx} uses — and nothing else: it holds no state between compilations, and
 * every {@code with...} returns a new one, so one instance may be shared between threads.
 *
 * <pre>{@code
 * CompiledModel m = Cmod.standard().withSeed(1).compile("tiny.cmod", source);
 * Map<String, Tensor> out = m.run(Map.of("x", Cmod.floats(new float[] {1, 2}, 1, 2)));
 * }</pre>
 *
 * <p>The ONNX importer is passed in, never found globally: {@link #standard()} passes the backend's
 * ({@link OnnxImports#SERVICE}), {@link #withOnnxImports} another one or none (a compilation
 * without one refuses {@code import onnx} with a diagnostic, which suits a program that compiles
 * sources it does not trust to read model files).
 */
public final class Cmod {
  private final CompileOptions options;
  private final Target target;

  private Cmod(CompileOptions options, Target target) {
    this.options = options;
    this.target = target;
  }

  /** As the {@code cmod} command compiles: -O2, seed 0, target onnx17, the backend's importer. */
  public static Cmod standard() {
    return new Cmod(CompileOptions.defaults().withOnnxImports(OnnxImports.SERVICE), Target.ONNX17);
  }

  /** This configuration with {@code service} for {@code import onnx} (null: refuse it). */
  public Cmod withOnnxImports(OnnxImportService service) {
    return new Cmod(options.withOnnxImports(service), target);
  }

  /** Which model of the file to compile (default: the last one). */
  public Cmod withModel(String name) {
    return new Cmod(options.withModel(name), target);
  }

  /** Optimization level 0, 1 or 2 (as -O0, -O1, -O2). */
  public Cmod withOptLevel(int level) {
    if (level < 0 || level > 2) {
      throw new IllegalArgumentException("optimization level " + level + "; expected 0, 1 or 2");
    }
    return new Cmod(options.withOptLevel(level), target);
  }

  /** The seed of random initializers. */
  public Cmod withSeed(long seed) {
    return new Cmod(options.withSeed(seed), target);
  }

  /** Parameter values by path from a safetensors file (as {@code --weights}). */
  public Cmod withWeights(Path safetensors) {
    return new Cmod(options.withWeightsFile(safetensors), target);
  }

  /** What the backend may emit (as {@code --target}). */
  public Cmod withTarget(Target t) {
    return new Cmod(options, t);
  }

  /** The compiler's options this configuration stands for. */
  public CompileOptions options() {
    return options;
  }

  public Target target() {
    return target;
  }

  /** Compiles a .cmod file; imports are relative to its folder. */
  public CompiledModel compile(Path file) {
    return checked(Compilation.compile(file, options), file);
  }

  /**
   * Compiles source text; {@code name} is the file name diagnostics show, and relative imports are
   * resolved as for a file of that name in the current folder.
   */
  public CompiledModel compile(String name, String source) {
    return checked(
        Compilation.compile(new SourceFile(name, source), Path.of(name).toAbsolutePath(), options),
        Path.of(name).toAbsolutePath());
  }

  private CompiledModel checked(Compilation.Result r, Path source) {
    if (!r.ok()) {
      throw new CompileException(r.diagnostics());
    }
    return new CompiledModel(r, target, source);
  }

  /** An f32 tensor of {@code shape} holding {@code data} in row-major order. */
  public static Tensor floats(float[] data, long... shape) {
    return Tensor.ofFloats(DType.F32, shape, data);
  }

  /** An i64 tensor (token ids, indices) of {@code shape} holding {@code data}. */
  public static Tensor longs(long[] data, long... shape) {
    return Tensor.ofLongs(DType.I64, shape, data);
  }
}
