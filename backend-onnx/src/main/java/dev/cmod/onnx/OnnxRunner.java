package dev.cmod.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a serialized ONNX model on ONNX Runtime, converting between IR {@link Tensor}s and ORT
 * tensors. All runners share one {@link OrtEnvironment}. Not thread-safe for concurrent {@link
 * #close}; concurrent {@link #run} calls are fine (ORT sessions allow them).
 */
public final class OnnxRunner implements AutoCloseable {

  /** Where the model runs. */
  public enum Device {
    CPU,
    /** NVIDIA GPU through the CUDA execution provider (needs the onnxruntime_gpu artifact). */
    CUDA
  }

  private static volatile OrtEnvironment env;

  /** Run options of the runs in flight, so that {@link #terminateAll} can stop them. */
  private static final java.util.Set<OrtSession.RunOptions> ACTIVE =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  private static volatile boolean terminating;

  /** Sessions being created (native code that cannot be told to stop, only waited for). */
  private static final java.util.concurrent.atomic.AtomicInteger LOADING =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * Asks every run in flight to stop, through ONNX Runtime's own terminate flag; later runs are
   * refused. Returns at once; {@link #awaitIdle} waits for the runs to return.
   */
  public static void terminateAll() {
    terminating = true;
    for (OrtSession.RunOptions ro : ACTIVE) {
      try {
        ro.setTerminate(true);
      } catch (OrtException | RuntimeException ignored) {
        // the run has just ended
      }
    }
  }

  /** Waits up to {@code millis} for every run in flight to return; true when none is left. */
  public static boolean awaitIdle(long millis) {
    long end = System.nanoTime() + millis * 1_000_000L;
    while (!ACTIVE.isEmpty() || LOADING.get() > 0) {
      if (System.nanoTime() > end) {
        return false;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return ACTIVE.isEmpty() && LOADING.get() == 0;
      }
    }
    return true;
  }

  /**
   * The most elements one output may have when it is copied into Java: a sixteenth of the maximum
   * heap in elements of 8 bytes, at most 2^28.
   */
  public static long maxOutputElements() {
    return Math.max(1, Math.min(1L << 28, Runtime.getRuntime().maxMemory() / 16));
  }

  private final OrtSession session;
  private final List<String> inputNames;
  private final List<String> outputNames;

  /**
   * Why no run can copy the outputs back (a declared output too large), or null; checked once, at
   * load.
   */
  private final String tooLarge;

  /**
   * The inputs of type u16, u32 or u64 that the session takes as wider types ({@link
   * UnsignedInputs}).
   */
  private final Map<String, DType> widened;

  private OnnxRunner(OrtSession session, Map<String, DType> widened) throws OrtException {
    this.session = session;
    this.widened = Map.copyOf(widened);
    this.inputNames = List.copyOf(session.getInputNames());
    this.outputNames = List.copyOf(session.getOutputNames());
    this.tooLarge = declaredOutputTooLarge();
  }

  static OrtEnvironment env() {
    OrtEnvironment e = env;
    if (e == null) {
      synchronized (OnnxRunner.class) {
        e = env;
        if (e == null) {
          try {
            e = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, "cmod");
          } catch (RuntimeException | LinkageError ex) {
            String tmp = System.getProperty("java.io.tmpdir");
            boolean writable =
                tmp != null && java.nio.file.Files.isWritable(java.nio.file.Path.of(tmp));
            throw new RunnerException(
                "cannot start ONNX Runtime: "
                    + ex.getMessage()
                    + (writable
                        ? ""
                        : "; its native library is unpacked into the temporary folder "
                            + tmp
                            + ", which is not writable (or full): set TMPDIR, or CMOD_JAVA_OPTS=-Djava.io.tmpdir=DIR, to a writable folder"),
                ex);
          }
          env = e;
        }
      }
    }
    return e;
  }

  /**
   * Loads a model.
   *
   * @throws RunnerException when ORT rejects the model, or CUDA is asked for but not available
   */
  public static OnnxRunner open(byte[] model, Device device) {
    return open(model, null, device, 0);
  }

  /**
   * Loads a model to run with {@code threads} intra-op threads (0: ONNX Runtime's default, one per
   * core), as benchmarks that compare at fixed thread counts need.
   */
  public static OnnxRunner open(byte[] model, Device device, int threads) {
    return open(model, null, device, threads);
  }

  /**
   * Loads a model file; external data is resolved next to it (ONNX Runtime reads it from the file's
   * folder). Validate the file with {@link OnnxChecks} first.
   */
  public static OnnxRunner open(java.nio.file.Path file, Device device) {
    return open(null, file, device, 0);
  }

  private static OnnxRunner open(
      byte[] model, java.nio.file.Path file, Device device, int threads) {
    OrtEnvironment e = env();
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
      if (threads > 0) {
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
      }
      if (device == Device.CUDA) {
        try {
          so.addCUDA();
        } catch (OrtException | RuntimeException | UnsatisfiedLinkError ex) {
          throw new RunnerException(
              "CUDA is not available: running on the GPU needs the "
                  + "com.microsoft.onnxruntime:onnxruntime_gpu artifact instead of onnxruntime, an NVIDIA GPU "
                  + "and a matching CUDA/cuDNN installation (build cmod with `mvn -Pgpu install"
                  + " -DskipTests` to get the CUDA build; "
                  + ex.getMessage()
                  + ")",
              ex);
        }
      }
      if (terminating) {
        throw new RunnerException("the model was not loaded: cmod is stopping (time limit)");
      }
      LOADING.incrementAndGet();
      try {
        OrtSession session =
            model != null
                ? e.createSession(model, so)
                : e.createSession(file.toAbsolutePath().toString(), so);
        Map<String, DType> widened = new LinkedHashMap<>();
        if (takesUnsigned(session)) {
          byte[] bytes = model;
          if (bytes == null) {
            // external data stays where the file's folder has it
            bytes = readModel(file);
            java.nio.file.Path dir = file.toAbsolutePath().getParent();
            so.addConfigEntry(
                "session.model_external_initializers_file_folder_path", dir.toString());
          }
          byte[] wide = UnsignedInputs.widen(bytes, widened);
          session.close();
          session = e.createSession(wide, so);
        }
        return new OnnxRunner(session, widened);
      } finally {
        LOADING.decrementAndGet();
      }
    } catch (OrtException ex) {
      throw new RunnerException("ONNX Runtime could not load the model: " + ex.getMessage(), ex);
    }
  }

  private static byte[] readModel(java.nio.file.Path file) {
    try {
      return java.nio.file.Files.readAllBytes(file);
    } catch (java.io.IOException ex) {
      throw new RunnerException("cannot read " + file + ": " + ex.getMessage(), ex);
    }
  }

  /** Whether the session has an input of a type ONNX Runtime's Java API cannot make. */
  private static boolean takesUnsigned(OrtSession session) throws OrtException {
    for (NodeInfo info : session.getInputInfo().values()) {
      if (info.getInfo() instanceof TensorInfo ti) {
        DType d = dtype(ti);
        if (d != null && UnsignedInputs.wide(d) != null) {
          return true;
        }
      }
    }
    return false;
  }

  /** The model's input names, in model order. */
  public List<String> inputNames() {
    return inputNames;
  }

  /** The model's output names, in model order. */
  public List<String> outputNames() {
    return outputNames;
  }

  /**
   * Runs the model.
   *
   * @param inputs a tensor for every model input, by name
   * @return every output by name, in the model's output order
   * @throws RunnerException when an input is missing or unknown, or ORT fails (wrong shape, ...)
   */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    return run(inputs, null);
  }

  /**
   * Runs the model with an adapter's parameters in place of the defaults (ONNX Runtime's LoRA
   * mechanism: the adapter is activated for this run only, so concurrent runs may use different
   * adapters of one session).
   *
   * @param adapter loaded for this artifact with {@link RunAdapter#load}, or null for the defaults
   */
  public Map<String, Tensor> run(Map<String, Tensor> inputs, RunAdapter adapter) {
    for (String k : inputs.keySet()) {
      if (!inputNames.contains(k)) {
        throw new RunnerException(
            "the model has no input '" + k + "' (inputs: " + inputNames + ")");
      }
    }
    Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
    try {
      for (String name : inputNames) {
        Tensor t = inputs.get(name);
        if (t == null) {
          throw new RunnerException("missing model input '" + name + "'");
        }
        DType unsigned = widened.get(name);
        if (unsigned != null && t.dtype() == unsigned) {
          t = Tensor.ofLongs(UnsignedInputs.wide(unsigned), t.shape(), t.longs());
        }
        feeds.put(name, toOrt(t));
      }
      if (tooLarge != null) {
        throw new RunnerException(tooLarge);
      }
      try (OrtSession.RunOptions ro = new OrtSession.RunOptions()) {
        ACTIVE.add(ro);
        try {
          if (adapter != null) {
            ro.addActiveLoraAdapter(adapter.ort());
          }
          if (terminating) {
            throw new RunnerException("the run was stopped before it started (time limit)");
          }
          try (OrtSession.Result res = session.run(feeds, ro)) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String name : outputNames) {
              OnnxValue v =
                  res.get(name)
                      .orElseThrow(
                          () -> new RunnerException("ORT returned no output '" + name + "'"));
              if (!(v instanceof OnnxTensor ot)) {
                throw new RunnerException(
                    "output '" + name + "' is not a tensor (" + v.getType() + ")");
              }
              long n = numelOrHuge(ot.getInfo().getShape());
              if (n > maxOutputElements()) {
                throw new RunnerException(
                    "output '"
                        + name
                        + "' has shape "
                        + Arrays.toString(ot.getInfo().getShape())
                        + " ("
                        + (n == Long.MAX_VALUE ? "more than 2^63" : Long.toString(n))
                        + " elements), more than cmod copies ("
                        + maxOutputElements()
                        + " with this heap)");
              }
              Tensor got = fromOrt(ot);
              DType unsigned = widened.get(name); // an input handed straight out
              out.put(
                  name,
                  unsigned == null ? got : Tensor.ofLongs(unsigned, got.shape(), got.longs()));
            }
            return out;
          } catch (OrtException ex) {
            if (terminating) {
              throw new RunnerException("the run was stopped (time limit)", ex);
            }
            throw ex;
          }
        } finally {
          ACTIVE.remove(ro);
        }
      }
    } catch (OrtException ex) {
      throw new RunnerException("ONNX Runtime failed: " + ex.getMessage(), ex);
    } finally {
      for (OnnxTensor t : feeds.values()) {
        t.close();
      }
    }
  }

  private static long numelOrHuge(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        continue;
      }
      if (d != 0 && n > Long.MAX_VALUE / d) {
        return Long.MAX_VALUE;
      }
      n *= d;
    }
    return n;
  }

  /**
   * The refusal for an output whose declared static shape is already too large to copy, or null.
   */
  private String declaredOutputTooLarge() throws OrtException {
    for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
      if (e.getValue().getInfo() instanceof TensorInfo ti) {
        long[] shape = ti.getShape();
        boolean known = true;
        for (long d : shape) {
          known &= d >= 0;
        }
        long n = numelOrHuge(shape);
        if (known && n > maxOutputElements()) {
          return "output '"
              + e.getKey()
              + "' is declared with shape "
              + Arrays.toString(shape)
              + " ("
              + (n == Long.MAX_VALUE ? "more than 2^63" : Long.toString(n))
              + " elements), more than cmod copies ("
              + maxOutputElements()
              + " with this heap)";
        }
      }
    }
    return null;
  }

  /**
   * The model's declared inputs: name to (ONNX Runtime's Java type name, shape with -1 for symbolic
   * dims).
   */
  public Map<String, TensorInfo> inputInfo() {
    try {
      Map<String, TensorInfo> out = new LinkedHashMap<>();
      for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
        if (e.getValue().getInfo() instanceof TensorInfo ti) {
          out.put(e.getKey(), ti);
        }
      }
      return out;
    } catch (OrtException ex) {
      throw new RunnerException(ex.getMessage(), ex);
    }
  }

  /**
   * The run-time adapter interface the artifact records ({@code cmod.adapters} metadata), or null
   * when it was compiled without run-time adapters.
   *
   * @throws RunnerException when the metadata is there but damaged
   */
  public dev.cmod.ir.graph.AdapterInterface adapterInterface() {
    try {
      String json =
          session
              .getMetadata()
              .getCustomMetadata()
              .get(dev.cmod.ir.graph.AdapterInterface.METADATA_KEY);
      return json == null ? null : dev.cmod.ir.graph.AdapterInterface.parse(json);
    } catch (OrtException | IllegalArgumentException ex) {
      throw new RunnerException(
          "the model's adapter interface is unreadable: " + ex.getMessage(), ex);
    }
  }

  /** Input and output type descriptions as ORT reports them (for diagnostics). */
  public String describe() {
    try {
      StringBuilder sb = new StringBuilder();
      for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
        sb.append("input ")
            .append(e.getKey())
            .append(": ")
            .append(e.getValue().getInfo())
            .append('\n');
      }
      for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
        sb.append("output ")
            .append(e.getKey())
            .append(": ")
            .append(e.getValue().getInfo())
            .append('\n');
      }
      return sb.toString();
    } catch (OrtException ex) {
      throw new RunnerException(ex.getMessage(), ex);
    }
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException ex) {
      throw new RunnerException("closing the ONNX Runtime session failed: " + ex.getMessage(), ex);
    }
  }

  private static OnnxTensor toOrt(Tensor t) throws OrtException {
    OrtEnvironment e = env();
    long[] shape = t.shape();
    int n = t.size();
    switch (t.dtype()) {
      case F32 -> {
        return OnnxTensor.createTensor(e, FloatBuffer.wrap(t.floats()), shape);
      }
      case F64 -> {
        return OnnxTensor.createTensor(e, DoubleBuffer.wrap(t.doubles()), shape);
      }
      case F16, BF16 -> {
        short[] s = new short[n];
        for (int i = 0; i < n; i++) {
          float v = t.floats()[i];
          s[i] = t.dtype() == DType.F16 ? TensorProtos.toHalf(v) : TensorProtos.toBfloat16(v);
        }
        return OnnxTensor.createTensor(
            e,
            ShortBuffer.wrap(s),
            shape,
            t.dtype() == DType.F16 ? OnnxJavaType.FLOAT16 : OnnxJavaType.BFLOAT16);
      }
      case I64 -> {
        return OnnxTensor.createTensor(e, LongBuffer.wrap(t.longs()), shape);
      }
      case I32 -> {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
          a[i] = Math.toIntExact(t.longs()[i]);
        }
        return OnnxTensor.createTensor(e, IntBuffer.wrap(a), shape);
      }
      case BOOL, U8, I8 -> {
        ByteBuffer b = ByteBuffer.allocateDirect(n).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
          b.put(i, (byte) t.dtype().wrap(t.longs()[i]));
        }
        OnnxJavaType jt =
            switch (t.dtype()) {
              case BOOL -> OnnxJavaType.BOOL;
              case U8 -> OnnxJavaType.UINT8;
              default -> OnnxJavaType.INT8;
            };
        return OnnxTensor.createTensor(e, b, shape, jt);
      }
      case I16 -> {
        short[] a = new short[n];
        for (int i = 0; i < n; i++) {
          a[i] = (short) t.longs()[i];
        }
        return OnnxTensor.createTensor(e, ShortBuffer.wrap(a), shape, OnnxJavaType.INT16);
      }
      default ->
          // the Java API of ONNX Runtime has no way to make u16, u32 or u64 tensors
          throw new RunnerException(
              "cannot pass a "
                  + t.dtype()
                  + " tensor to ONNX Runtime: its Java API makes no u16, u32 or u64 tensors");
    }
  }

  /**
   * The Java API reads u16, u32 and u64 outputs as INT16, INT32 and INT64; the ONNX element type
   * tells them apart.
   */
  private static DType unsigned(TensorInfo info, DType signed, DType unsigned) {
    return dtype(info) == unsigned ? unsigned : signed;
  }

  /**
   * The IR dtype of an ONNX Runtime tensor's ONNX element type (not its Java type, which reads
   * unsigned types as signed ones), or null for one cmod does not have.
   */
  public static DType dtype(TensorInfo info) {
    return switch (info.onnxType) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> DType.F32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DType.F64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> DType.F16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> DType.BF16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> DType.I64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> DType.I32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> DType.I16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> DType.I8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> DType.U64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> DType.U32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> DType.U16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> DType.U8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> DType.BOOL;
      default -> null;
    };
  }

  private static Tensor fromOrt(OnnxTensor ot) {
    TensorInfo info = ot.getInfo();
    long[] shape = info.getShape();
    int n = Math.toIntExact(Tensor.numel(shape));
    switch (info.type) {
      case FLOAT -> {
        float[] f = new float[n];
        ot.getFloatBuffer().get(f);
        return Tensor.ofFloats(shape, f);
      }
      case DOUBLE -> {
        double[] d = new double[n];
        ot.getDoubleBuffer().get(d);
        return Tensor.ofDoubles(shape, d);
      }
      case FLOAT16, BFLOAT16 -> {
        ShortBuffer sb = ot.getShortBuffer();
        float[] f = new float[n];
        boolean half = info.type == OnnxJavaType.FLOAT16;
        for (int i = 0; i < n; i++) {
          f[i] = half ? TensorProtos.fromHalf(sb.get(i)) : TensorProtos.fromBfloat16(sb.get(i));
        }
        return Tensor.ofFloats(half ? DType.F16 : DType.BF16, shape, f);
      }
      case INT64 -> {
        long[] l = new long[n];
        ot.getLongBuffer().get(l);
        return Tensor.ofLongs(unsigned(info, DType.I64, DType.U64), shape, l);
      }
      case INT32 -> {
        IntBuffer ib = ot.getIntBuffer();
        DType dt = unsigned(info, DType.I32, DType.U32);
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
          l[i] = dt.wrap(ib.get(i));
        }
        return Tensor.ofLongs(dt, shape, l);
      }
      case INT16 -> {
        ShortBuffer sb = ot.getShortBuffer();
        DType dt = unsigned(info, DType.I16, DType.U16);
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
          l[i] = dt.wrap(sb.get(i));
        }
        return Tensor.ofLongs(dt, shape, l);
      }
      case INT8, UINT8 -> {
        ByteBuffer bb = ot.getByteBuffer();
        DType dt = info.type == OnnxJavaType.UINT8 ? DType.U8 : DType.I8;
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
          l[i] = dt.wrap(bb.get(i));
        }
        return Tensor.ofLongs(dt, shape, l);
      }
      case BOOL -> {
        ByteBuffer bb = ot.getByteBuffer();
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
          l[i] = bb.get(i) != 0 ? 1 : 0;
        }
        return Tensor.ofLongs(DType.BOOL, shape, l);
      }
      default ->
          throw new RunnerException(
              "cannot read an ONNX Runtime output of type "
                  + info.type
                  + " with shape "
                  + Arrays.toString(shape));
    }
  }
}
