package dev.cmod.cli;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.EmitOptions;
import dev.cmod.onnx.ExternalDataWriter;
import dev.cmod.onnx.OnnxEmitter;
import dev.cmod.onnx.Precision;
import dev.cmod.onnx.Target;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** The steps the CLI is made of, reusable from tests: compile to ONNX bytes, make inputs. */
public final class Toolchain {
  /** Largest random input {@code cmod run} generates (elements). */
  public static final long MAX_RANDOM_ELEMENTS = 1L << 26;

  private Toolchain() {}

  /**
   * A compilation and, when it succeeded, its ONNX model: a message, serialized on first use of
   * {@link #onnx()} (so {@code cmod compile} streams it to the file without holding its bytes
   * twice). A model whose weights exceed what one protobuf message holds ({@link
   * ExternalDataWriter#AUTO_BYTES}) has no bytes: only {@code cmod compile} writes it, with
   * external data.
   */
  public static final class Compiled {
    private final Compilation.Result result;
    private final ModelProto model;
    private byte[] bytes;

    Compiled(Compilation.Result result, ModelProto model) {
      this.result = result;
      this.model = model;
    }

    public Compilation.Result result() {
      return result;
    }

    public boolean ok() {
      return model != null;
    }

    /** The model as a message (null when the compilation failed). */
    public ModelProto model() {
      return model;
    }

    /** Whether the weights are too large for one file, so they must go to external data. */
    public boolean needsExternalData() {
      return model != null && ExternalDataWriter.weightBytes(model) > ExternalDataWriter.AUTO_BYTES;
    }

    /** The artifact's bytes (null when the compilation failed). */
    public synchronized byte[] onnx() {
      if (bytes == null && model != null) {
        if (needsExternalData()) {
          throw new UserError(
              DiagnosticCode.ENVIRONMENT,
              "the compiled model holds "
                  + ExternalDataWriter.weightBytes(model)
                  + " bytes of weights, more than one ONNX file can hold; write it with `cmod"
                  + " compile` (its weights go to a data file beside it) and use that file");
        }
        bytes = model.toByteArray();
      }
      return bytes;
    }
  }

  /** {@link #compile(Path, CompileOptions, Target)} for the default target. */
  public static Compiled compile(Path file, CompileOptions o) {
    return compile(file, o, Target.ONNX17);
  }

  /**
   * Compiles {@code file} and emits it for {@code target}; a graph the target cannot emit (an
   * imported model's opaque region at another opset) is a user error.
   */
  public static Compiled compile(Path file, CompileOptions o, Target target) {
    return compile(file, o, target, Precision.F32);
  }

  /**
   * Compiles {@code file} and emits it for {@code target} at {@code precision}; a graph the target
   * cannot emit (an imported model's opaque region at another opset) is a user error.
   */
  public static Compiled compile(Path file, CompileOptions o, Target target, Precision precision) {
    Compilation.Result r = Compilation.compile(file, o);
    if (!r.ok()) {
      return new Compiled(r, null);
    }
    EmitOptions emit =
        new EmitOptions(Compilation.VERSION).withTarget(target).withPrecision(precision);
    try {
      return new Compiled(r, OnnxEmitter.build(r.graph(), emit));
    } catch (IllegalArgumentException e) {
      if (target == Target.ONNX17 && precision == Precision.F32) {
        throw e;
      }
      throw new UserError(DiagnosticCode.UNSUPPORTED, e.getMessage());
    }
  }

  public static byte[] emit(Graph g) {
    return OnnxEmitter.emit(g, new EmitOptions(Compilation.VERSION));
  }

  /** Sizes for symbolic dims when the user gives none: batch 2, others 8 (within where bounds). */
  public static Map<String, Long> defaultSizes(Graph g, ModelFacts facts) {
    Map<String, Long> sizes = new LinkedHashMap<>();
    for (String s : g.symbols().keySet()) {
      sizes.put(s, s.equals("batch") ? 2L : facts == null ? 8L : facts.defaultSize(s, 8, 64));
    }
    return sizes;
  }

  /**
   * Seeded random inputs of the declared shapes: normal floats; ids within the vocabulary or class
   * count.
   */
  public static Map<String, Tensor> randomInputs(
      Graph g, ModelFacts facts, Map<String, Long> sizes, long seed) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    Random rng = new Random(seed);
    Map<String, Long> ranges = new HashMap<>();
    if (facts != null) {
      for (ModelFacts.Port p : facts.inputs()) {
        Long range = p.resolved().vocab();
        if (range != null) {
          ranges.put(p.name(), range);
        }
      }
    }
    String adapters = g.metadata().get(dev.cmod.ir.graph.AdapterInterface.METADATA_KEY);
    if (adapters != null) {
      dev.cmod.ir.graph.AdapterInterface a = dev.cmod.ir.graph.AdapterInterface.parse(adapters);
      if (a.indexInput() != null) {
        ranges.put(a.indexInput(), (long) a.adapters().size()); // a valid adapter per example
      }
    }
    for (Node in : g.inputs()) {
      String name = in.attrs().getString("name");
      TensorType t = in.type();
      long[] shape = new long[t.rank()];
      long numel;
      try {
        for (int i = 0; i < shape.length; i++) {
          Dim d = t.dim(i);
          shape[i] = d.isKnown() ? d.value() : d.eval(s -> sizes.getOrDefault(s, 8L));
        }
        numel = Tensor.numel(shape);
      } catch (ArithmeticException | IllegalArgumentException e) {
        numel = Long.MAX_VALUE;
      }
      if (numel > MAX_RANDOM_ELEMENTS) {
        throw new UserError(
            DiagnosticCode.LIMIT,
            "input '"
                + name
                + "' "
                + t
                + " is too large to fill with random values (limit "
                + MAX_RANDOM_ELEMENTS
                + " elements); pass it with --input "
                + name
                + "=FILE.npy");
      }
      int n = (int) numel;
      if (t.dtype().isFloat()) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = (float) rng.nextGaussian();
        }
        out.put(name, Tensor.ofFloats(t.dtype(), shape, f));
      } else {
        // 0 and 1 when the type says nothing more: valid masks, segment ids and indices into
        // any table, as for .onnx files (OnnxInputs)
        long range = ranges.getOrDefault(name, 2L);
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
          l[i] = (long) rng.nextInt((int) Math.min(Integer.MAX_VALUE, Math.max(1, range)));
        }
        out.put(name, Tensor.ofLongs(t.dtype(), shape, l));
      }
    }
    return out;
  }
}
