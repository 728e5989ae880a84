package dev.cmod.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.io.HalfFloats;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.importer.ImportContext;
import dev.cmod.onnx.importer.ImportSource;
import dev.cmod.onnx.importer.OnnxTypes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Imports an ONNX model as an {@link ImportedModule}: a frozen module whose computation is added to
 * a cmod IR graph node by node (see {@link dev.cmod.onnx.importer} for the operator mapping).
 * Weights (initializers and the tensors of Constant nodes) become frozen parameters; shape
 * computations (Shape, Gather, Concat, ... feeding Reshape) are folded at import time into IR dims.
 */
public final class OnnxImporter {
  private OnnxImporter() {}

  /**
   * The newest opset of the default ONNX domain whose operator definitions the importer follows.
   */
  public static final int MAX_OPSET = 22;

  /**
   * Parses and checks a serialized model.
   *
   * @param dir the directory that external-data paths are relative to (null: the model has none)
   * @throws ImportException when the bytes are not an acceptable ONNX model
   */
  public static ImportedModule load(byte[] bytes, Path dir) {
    return load(bytes, dir, null);
  }

  /**
   * {@link #load(byte[], Path)} with a signature written with the import (null: none); see {@link
   * ImportSignatures}.
   */
  public static ImportedModule load(byte[] bytes, Path dir, ImportedModule.Signature signature) {
    List<String> problems = OnnxChecks.validate(bytes, dir);
    if (!problems.isEmpty()) {
      throw new ImportException(
          "invalid ONNX model: "
              + String.join("; ", problems.subList(0, Math.min(3, problems.size())))
              + (problems.size() > 3 ? " (and " + (problems.size() - 3) + " more)" : ""));
    }
    ModelProto m;
    try {
      m = TensorProtos.parseModel(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new ImportException("not a valid ONNX model: " + e.getMessage());
    }
    long opset = -1;
    for (OperatorSetIdProto o : m.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        opset = o.getVersion();
      }
    }
    if (opset < 0) {
      throw new ImportException(
          "the model does not import the standard ONNX operator set (ai.onnx)");
    }
    if (opset > MAX_OPSET) {
      throw new ImportException(
          "the model uses ONNX opset "
              + opset
              + ", newer than the opsets this importer knows (up to "
              + MAX_OPSET
              + "); convert it to an older opset (e.g. onnx.version_converter) or run it directly with cmod run");
    }
    try {
      ExternalData.checkClaims(m, dir);
      m = ExternalData.inlineNested(m, dir);
    } catch (ExternalData.ExternalDataException e) {
      throw new ImportException(e.getMessage());
    }
    if (signature != null) {
      m = ImportSignatures.apply(m, signature);
    }
    BUDGET.set(new ExternalData.Budget(ExternalData.budgetBytes()));
    return new Module(m, (int) opset, dir);
  }

  /** The imported model. Immutable after construction apart from a cache of converted weights. */
  static final class Module implements ImportedModule, ImportSource {
    final GraphProto graph;
    final ModelProto header;
    final int opset;
    final Path dir;
    final Map<String, TensorProto> initializers = new HashMap<>();
    private final List<String> inputNames = new ArrayList<>();
    private final List<TensorType> inputTypes = new ArrayList<>();
    private final List<String> outputNames = new ArrayList<>();
    private final Map<String, Tensor> converted = new HashMap<>();

    Module(ModelProto model, int opset, Path dir) {
      this.graph = model.getGraph();
      this.header = model.toBuilder().clearGraph().build();
      this.opset = opset;
      this.dir = dir;
      for (TensorProto t : graph.getInitializerList()) {
        initializers.put(t.getName(), t);
      }
      Set<String> seen = new HashSet<>();
      for (ValueInfoProto in : graph.getInputList()) {
        if (initializers.containsKey(in.getName()) || !seen.add(in.getName())) {
          continue;
        }
        inputNames.add(in.getName());
        inputTypes.add(typeOf(in, "input"));
      }
      for (ValueInfoProto out : graph.getOutputList()) {
        outputNames.add(out.getName());
      }
      if (outputNames.isEmpty()) {
        throw new ImportException("the ONNX model has no outputs");
      }
    }

    @Override
    public List<String> inputNames() {
      return Collections.unmodifiableList(inputNames);
    }

    @Override
    public List<TensorType> inputTypes() {
      return Collections.unmodifiableList(inputTypes);
    }

    @Override
    public List<String> outputNames() {
      return Collections.unmodifiableList(outputNames);
    }

    @Override
    public List<Value> apply(Graph g, List<Value> args, String prefix, SourceLoc loc) {
      if (args.size() != inputNames.size()) {
        throw new dev.cmod.ir.graph.ShapeException(
            "the ONNX model takes "
                + inputNames.size()
                + " input"
                + (inputNames.size() == 1 ? "" : "s")
                + " ("
                + String.join(", ", inputNames)
                + "), got "
                + args.size());
      }
      Map<String, Dim> params = new HashMap<>();
      for (int i = 0; i < args.size(); i++) {
        checkArg(
            inputNames.get(i), inputTypes.get(i), args.get(i).type(), graph.getInputList(), params);
      }
      return ImportContext.translate(this, g, prefix, loc, args);
    }

    private void checkArg(
        String name,
        TensorType want,
        TensorType have,
        List<ValueInfoProto> decl,
        Map<String, Dim> params) {
      if (want.dtype() != have.dtype()) {
        throw new dev.cmod.ir.graph.ShapeException(
            "ONNX input '" + name + "' needs " + want + ", got " + have);
      }
      if (want.rank() != have.rank()) {
        throw new dev.cmod.ir.graph.ShapeException(
            "ONNX input '" + name + "' needs rank " + want.rank() + " (" + want + "), got " + have);
      }
      for (int a = 0; a < want.rank(); a++) {
        Dim w = want.dim(a);
        Dim h = have.dim(a);
        if (w.isKnown() && h.isKnown() && w.value() != h.value()) {
          throw new dev.cmod.ir.graph.ShapeException(
              "ONNX input '"
                  + name
                  + "' needs size "
                  + w
                  + " on axis "
                  + a
                  + " ("
                  + want
                  + "), got "
                  + have);
        }
        if (!w.isKnown() && !w.isUnknown() && !h.isUnknown()) {
          Dim prev = params.putIfAbsent(w.toString(), h);
          if (prev != null && !prev.equals(h)) {
            throw new dev.cmod.ir.graph.ShapeException(
                "ONNX dim '"
                    + w
                    + "' is "
                    + prev
                    + " on one input but "
                    + h
                    + " on axis "
                    + a
                    + " of input '"
                    + name
                    + "'");
          }
        }
      }
    }

    @Override
    public GraphProto graph() {
      return graph;
    }

    @Override
    public int opset() {
      return opset;
    }

    @Override
    public Set<String> initializerNames() {
      return Collections.unmodifiableSet(initializers.keySet());
    }

    @Override
    public Tensor tensor(TensorProto t, String what) {
      return OnnxImporter.tensor(t, what, dir);
    }

    @Override
    public ModelProto header() {
      return header;
    }

    @Override
    public TensorProto initializerProto(String name) {
      TensorProto t = initializers.get(name);
      if (t.getDataLocation() != TensorProto.DataLocation.EXTERNAL) {
        return t;
      }
      // kept as raw bytes: the length is the one the file declares
      return t.toBuilder()
          .clearExternalData()
          .clearDataLocation()
          .setRawData(external(t, "initializer '" + name + "'", dir, -1))
          .build();
    }

    @Override
    public int initializerType(String name) {
      return initializers.get(name).getDataType();
    }

    /** An initializer as an IR tensor, converted once. */
    @Override
    public synchronized Tensor initializer(String name) {
      Tensor t = converted.get(name);
      if (t == null) {
        t = OnnxImporter.tensor(initializers.get(name), "initializer '" + name + "'", dir);
        converted.put(name, t);
      }
      return t;
    }
  }

  // ---------------------------------------------------------------- types and tensors

  /**
   * Reads a serialized ONNX TensorProto (such as the {@code input_0.pb} files of the ONNX backend
   * tests) as an IR tensor. External data is not allowed here.
   *
   * @throws ImportException when the bytes are not a tensor of a supported element type
   */
  public static Tensor readTensor(byte[] serialized) {
    TensorProto t;
    try {
      t = TensorProto.parseFrom(serialized);
    } catch (InvalidProtocolBufferException e) {
      throw new ImportException("not a serialized ONNX tensor: " + e.getMessage());
    }
    return tensor(t, "tensor '" + t.getName() + "'", null);
  }

  /**
   * {@link #readTensor(byte[])} for a value declared {@code declared}: ONNX's backend test data
   * (1.12) stores bfloat16 tensors as uint16 holding their bits, which this reads as the bf16
   * values they are; any other tensor is returned as read.
   */
  public static Tensor readTensor(byte[] serialized, DType declared) {
    Tensor t = readTensor(serialized);
    if (declared != DType.BF16 || t.dtype() != DType.U16) {
      return t;
    }
    float[] f = new float[t.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = HalfFloats.bf16ToFloat((int) t.longs()[i]);
    }
    return Tensor.ofFloats(DType.BF16, t.shape(), f);
  }

  static TensorType typeOf(ValueInfoProto v, String what) {
    TypeProto t = v.getType();
    if (t.hasSequenceType() || t.hasOptionalType() || t.hasMapType() || t.hasSparseTensorType()) {
      String kind =
          t.hasSequenceType()
              ? "a sequence"
              : t.hasOptionalType() ? "an optional" : t.hasMapType() ? "a map" : "a sparse tensor";
      throw new ImportException(
          "ONNX "
              + what
              + " '"
              + v.getName()
              + "' is "
              + kind
              + ", which cmod does not import (its values are tensors); run such a model with"
              + " cmod run MODEL.onnx");
    }
    if (!t.hasTensorType()) {
      throw new ImportException(
          "ONNX "
              + what
              + " '"
              + v.getName()
              + "' is not a tensor with a type in the file; give its type in the import's"
              + " signature (import onnx \"m.onnx\" as M : ("
              + v.getName()
              + ": f32[...]))");
    }
    TypeProto.Tensor tt = t.getTensorType();
    DType dt = OnnxTypes.dtype(tt.getElemType(), "ONNX " + what + " '" + v.getName() + "'");
    if (!tt.hasShape()) {
      throw new ImportException(
          "ONNX "
              + what
              + " '"
              + v.getName()
              + "' has no shape (its rank is unknown); give its type in the import's signature");
    }
    List<Dim> dims = new ArrayList<>();
    for (TensorShapeProto.Dimension d : tt.getShape().getDimList()) {
      if (d.hasDimValue() && d.getDimValue() >= 0) {
        dims.add(Dim.of(d.getDimValue()));
      } else if (d.hasDimParam() && !d.getDimParam().isEmpty()) {
        dims.add(Dim.sym(d.getDimParam()));
      } else {
        dims.add(Dim.UNKNOWN);
      }
    }
    return new TensorType(dt, dims);
  }

  /** Converts a TensorProto (raw, typed-field or external data) to an IR tensor. */
  static Tensor tensor(TensorProto t, String what, Path dir) {
    DType dt = OnnxTypes.dtype(t.getDataType(), what);
    long[] shape = new long[t.getDimsCount()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.getDims(i);
    }
    long numel;
    try {
      numel = Tensor.numel(shape);
    } catch (RuntimeException e) {
      throw new ImportException(what + ": bad shape " + java.util.Arrays.toString(shape));
    }
    if (numel > Integer.MAX_VALUE - 8) {
      throw new ImportException(what + ": too large (" + numel + " elements)");
    }
    int n = (int) numel;
    ByteString raw = null;
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      raw = external(t, what, dir, (long) n * dt.byteSize);
    } else if (t.hasRawData()) {
      raw = t.getRawData();
    }
    if (raw != null) {
      if (raw.size() != (long) n * dt.byteSize) {
        throw new ImportException(
            what + ": has " + raw.size() + " bytes of data, expected " + (long) n * dt.byteSize);
      }
      ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      if (dt == DType.F64) {
        double[] d = new double[n];
        b.asDoubleBuffer().get(d);
        return Tensor.ofDoubles(shape, d);
      }
      if (dt.isFloat()) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] =
              switch (dt) {
                case F32 -> b.getFloat();
                case F16 -> HalfFloats.halfToFloat(b.getShort() & 0xffff);
                default -> HalfFloats.bf16ToFloat(b.getShort() & 0xffff);
              };
        }
        return Tensor.ofFloats(dt, shape, f);
      }
      long[] l = new long[n];
      for (int i = 0; i < n; i++) {
        l[i] =
            switch (dt) {
              case I64, U64 -> b.getLong();
              case I32 -> b.getInt();
              case U32 -> b.getInt() & 0xffffffffL;
              case I16 -> b.getShort();
              case U16 -> b.getShort() & 0xffff;
              case I8 -> b.get();
              case U8 -> b.get() & 0xff;
              default -> b.get() != 0 ? 1 : 0;
            };
      }
      return Tensor.ofLongs(dt, shape, l);
    }
    int have =
        switch (dt) {
          case F32 -> t.getFloatDataCount();
          case F64 -> t.getDoubleDataCount();
          case I64 -> t.getInt64DataCount();
          case U32, U64 -> t.getUint64DataCount();
          default -> t.getInt32DataCount();
        };
    if (have != n) {
      throw new ImportException(what + ": has " + have + " elements, expected " + n);
    }
    if (dt == DType.F64) {
      double[] d = new double[n];
      for (int i = 0; i < n; i++) {
        d[i] = t.getDoubleData(i);
      }
      return Tensor.ofDoubles(shape, d);
    }
    if (dt.isFloat()) {
      float[] f = new float[n];
      for (int i = 0; i < n; i++) {
        f[i] =
            switch (dt) {
              case F32 -> t.getFloatData(i);
              case F16 -> HalfFloats.halfToFloat(t.getInt32Data(i) & 0xffff);
              default -> HalfFloats.bf16ToFloat(t.getInt32Data(i) & 0xffff);
            };
      }
      return Tensor.ofFloats(dt, shape, f);
    }
    long[] l = new long[n];
    for (int i = 0; i < n; i++) {
      l[i] =
          switch (dt) {
            case I64 -> t.getInt64Data(i);
            case U32, U64 -> t.getUint64Data(i);
            case BOOL -> t.getInt32Data(i) != 0 ? 1 : 0;
            // i32, i16, i8, u16, u8: in int32_data, as ONNX stores them
            default -> dt.wrap(t.getInt32Data(i));
          };
    }
    return Tensor.ofLongs(dt, shape, l);
  }

  /** External data read during one {@link #load}, against {@link ExternalData#budgetBytes()}. */
  private static final ThreadLocal<ExternalData.Budget> BUDGET = new ThreadLocal<>();

  /**
   * Reads external data from a file inside {@code dir} (paths were validated by {@link
   * OnnxChecks}).
   */
  private static ByteString external(TensorProto t, String what, Path dir, long want) {
    ExternalData.Budget b = BUDGET.get();
    if (b == null) {
      b = new ExternalData.Budget(ExternalData.budgetBytes());
      BUDGET.set(b);
    }
    try {
      return ExternalData.read(t, what, dir, want, b);
    } catch (ExternalData.ExternalDataException e) {
      throw new ImportException(e.getMessage());
    }
  }
}
