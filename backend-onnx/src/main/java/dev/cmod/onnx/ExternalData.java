package dev.cmod.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.SparseTensorProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.cmod.ir.io.SafeFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * ONNX external data, read by cmod itself: each file is opened through {@link SafeFiles} with the
 * {@link SafeFiles.Policy#MODEL} policy (regular file, one link, no symbolic link, checked on the
 * opened file), its range is checked against the file's real size, and the bytes it would take are
 * checked against a budget before anything is allocated.
 *
 * <p>{@link #inline} turns a model with external data into a self-contained one, so ONNX Runtime
 * never opens a file named by the model (the paths were checked by {@link OnnxChecks}; reading them
 * here, once, leaves no window between that check and a second read).
 */
public final class ExternalData {
  private ExternalData() {}

  /** Thrown when external data cannot be read; the message is written for users. */
  public static final class ExternalDataException extends RuntimeException {
    /** True when a size limit, not a bad file, is the reason (CM0500 rather than CM0501). */
    public final boolean limit;

    public ExternalDataException(String message) {
      this(message, false);
    }

    public ExternalDataException(String message, boolean limit) {
      super(message);
      this.limit = limit;
    }
  }

  /**
   * The most bytes of external data cmod reads for one model: a quarter of the JVM's maximum heap
   * (so a model that claims gigabytes is refused with a message instead of exhausting memory), at
   * most 2 GiB (the largest protobuf message ONNX Runtime accepts from memory).
   */
  public static long budgetBytes() {
    String env = System.getenv("CMOD_MAX_EXTERNAL_BYTES");
    if (env != null) {
      try {
        return Math.max(0, Long.parseLong(env.trim()));
      } catch (NumberFormatException ignored) {
        // fall through to the default
      }
    }
    return Math.min((Integer.MAX_VALUE - 8L) / 2 * 2, Runtime.getRuntime().maxMemory() / 4);
  }

  /** Bytes a tensor's data takes from its dims and type; -1 when unknown or overflowing. */
  static long bytesOf(TensorProto t) {
    int size = OnnxChecks.elemSize(t.getDataType());
    if (size == 0) {
      return -1;
    }
    long n = size;
    for (long d : t.getDimsList()) {
      if (d < 0) {
        return -1;
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        return -1;
      }
    }
    return n;
  }

  /** A running total of bytes read, against {@link #budgetBytes()}. */
  static final class Budget {
    private final long limit;
    private long used;

    Budget(long limit) {
      this.limit = limit;
    }

    void take(long bytes, String what) {
      if (bytes < 0 || bytes > limit - used) {
        throw new ExternalDataException(
            what
                + ": the model's external data needs more than "
                + limit
                + " bytes ("
                + (bytes < 0 ? "an unknown amount" : Long.toString(used + bytes))
                + " so far), more than cmod reads with this heap; "
                + "raise the heap with CMOD_JAVA_OPTS=-Xmx... or CMOD_MAX_EXTERNAL_BYTES",
            true);
      }
      used += bytes;
    }
  }

  /** Reads the bytes of one external tensor (paths already validated by {@link OnnxChecks}). */
  static ByteString read(TensorProto t, String what, Path dir, long want, Budget budget) {
    String location = null;
    long offset = 0;
    long length = -1;
    for (StringStringEntryProto e : t.getExternalDataList()) {
      try {
        switch (e.getKey()) {
          case "location" -> location = e.getValue();
          case "offset" -> offset = Long.parseLong(e.getValue());
          case "length" -> length = Long.parseLong(e.getValue());
          default -> {}
        }
      } catch (NumberFormatException ex) {
        throw new ExternalDataException(
            what + ": external data " + e.getKey() + " is not a number");
      }
    }
    if (dir == null || location == null) {
      throw new ExternalDataException(
          what + ": external data without a model directory or location");
    }
    if (want < 0) {
      want = length;
    }
    if (want < 0 || (length >= 0 && length != want)) {
      throw new ExternalDataException(
          what + ": external data length " + length + " does not match " + want + " bytes");
    }
    Path base = dir.toAbsolutePath().normalize();
    Path file;
    try {
      file = base.resolve(location).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      throw new ExternalDataException(
          what + ": external data path is not a valid path (" + e.getReason() + ")");
    }
    if (!file.startsWith(base) || file.equals(base)) {
      throw new ExternalDataException(
          what + ": external data path '" + location + "' leaves the model directory");
    }
    try (FileChannel ch = SafeFiles.open(file, SafeFiles.Policy.MODEL, Long.MAX_VALUE)) {
      long size = ch.size();
      if (offset < 0 || offset > size || want > size - offset) {
        throw new ExternalDataException(
            what
                + ": external data ["
                + offset
                + ", "
                + (offset + want)
                + ") is beyond the end of '"
                + location
                + "' ("
                + size
                + " bytes)");
      }
      if (want > Integer.MAX_VALUE - 8) {
        throw new ExternalDataException(
            what + ": external data of " + want + " bytes is over the 2 GiB cmod reads per tensor",
            true);
      }
      budget.take(want, what);
      ByteBuffer buf = ByteBuffer.allocate((int) want);
      long pos = offset;
      while (buf.hasRemaining()) {
        int k = ch.read(buf, pos);
        if (k < 0) {
          throw new ExternalDataException(
              what + ": external data file '" + location + "' became shorter while it was read");
        }
        pos += k;
      }
      buf.flip();
      return ByteString.copyFrom(buf);
    } catch (IOException e) {
      throw new ExternalDataException(
          what
              + ": cannot read external data '"
              + location
              + "': "
              + (e instanceof SafeFiles.RefusedException ? "it " : "")
              + SafeFiles.describe(e));
    }
  }

  /**
   * The model with every external tensor's data read into {@code raw_data}. Validate the model with
   * {@link OnnxChecks} first.
   */
  public static byte[] inline(byte[] model, Path dir) {
    ModelProto m;
    try {
      m = TensorProtos.parseModel(model);
    } catch (InvalidProtocolBufferException e) {
      throw new ExternalDataException("not a valid ONNX model: " + e.getMessage());
    }
    // first add up what every external tensor claims, so an over-budget model is refused before
    // a byte is read; then read
    checkClaims(m, dir);
    ModelProto.Builder mb = m.toBuilder();
    return readInto(mb, dir) ? mb.build().toByteArray() : model;
  }

  /**
   * Reads into the model the external data of every tensor that is not a top-level initializer
   * (tensors of {@code Constant} nodes, initializers of subgraphs, functions), so that nodes the
   * importer copies verbatim into an artifact (opaque regions) never name a file; top-level
   * initializers stay external, to be read one at a time when used. The caller has checked the
   * claims ({@link #checkClaims}).
   */
  static ModelProto inlineNested(ModelProto m, Path dir) {
    ModelProto.Builder mb = m.toBuilder();
    GraphProto.Builder top = mb.getGraphBuilder();
    List<TensorProto> initializers = List.copyOf(top.getInitializerList());
    List<SparseTensorProto> sparse = List.copyOf(top.getSparseInitializerList());
    top.clearInitializer().clearSparseInitializer();
    if (!readInto(mb, dir)) {
      return m;
    }
    top.addAllInitializer(initializers).addAllSparseInitializer(sparse);
    return mb.build();
  }

  /**
   * Reads the external data of every tensor {@code mb} holds into the tensor, within one budget;
   * whether any was read.
   */
  private static boolean readInto(ModelProto.Builder mb, Path dir) {
    Budget budget = new Budget(budgetBytes());
    boolean[] changed = {false};
    forEachTensor(
        mb,
        (t, what) -> {
          if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            ByteString data = read(t.build(), what, dir, bytesOf(t.build()), budget);
            t.clearExternalData()
                .setDataLocation(TensorProto.DataLocation.DEFAULT)
                .setRawData(data);
            changed[0] = true;
          }
        });
    return changed[0];
  }

  /**
   * Refuses a model whose external tensors claim more than the budget in all, before any is read.
   */
  static void checkClaims(ModelProto m, Path dir) {
    Budget claims = new Budget(budgetBytes());
    forEachTensor(
        m.toBuilder(),
        (t, what) -> {
          if (t.getDataLocation() != TensorProto.DataLocation.EXTERNAL) {
            return;
          }
          long claim = bytesOf(t.build());
          for (StringStringEntryProto e : t.getExternalDataList()) {
            if (e.getKey().equals("length")) {
              try {
                claim = Math.max(claim, Long.parseLong(e.getValue()));
              } catch (NumberFormatException ignored) {
                // reported by the read
              }
            }
          }
          if (claim > Integer.MAX_VALUE - 8) {
            throw new ExternalDataException(
                what
                    + ": external data of "
                    + claim
                    + " bytes is over the 2 GiB cmod reads per tensor",
                true);
          }
          if (claim >= 0) {
            claims.take(claim, what);
          }
        });
  }

  /**
   * Visits every tensor of a model, where ONNX allows one: initializers, sparse initializers,
   * tensor attributes, subgraphs, functions.
   */
  private static void forEachTensor(
      ModelProto.Builder m, BiConsumer<TensorProto.Builder, String> visit) {
    if (m.hasGraph()) {
      graph(m.getGraphBuilder(), "graph", visit, 0);
    }
    for (FunctionProto.Builder f : m.getFunctionsBuilderList()) {
      for (NodeProto.Builder n : f.getNodeBuilderList()) {
        node(n, "function '" + f.getName() + "'", visit, 1);
      }
    }
  }

  private static void graph(
      GraphProto.Builder g,
      String where,
      BiConsumer<TensorProto.Builder, String> visit,
      int depth) {
    if (depth > 64) {
      return; // OnnxChecks refuses deeper nesting
    }
    for (TensorProto.Builder t : g.getInitializerBuilderList()) {
      visit.accept(t, where + " initializer '" + t.getName() + "'");
    }
    for (SparseTensorProto.Builder sp : g.getSparseInitializerBuilderList()) {
      sparse(sp, where + " sparse initializer", visit);
    }
    for (NodeProto.Builder n : g.getNodeBuilderList()) {
      node(n, where, visit, depth);
    }
  }

  private static void node(
      NodeProto.Builder n, String where, BiConsumer<TensorProto.Builder, String> visit, int depth) {
    for (AttributeProto.Builder a : n.getAttributeBuilderList()) {
      String at = where + " node '" + n.getName() + "' attribute '" + a.getName() + "'";
      if (a.hasT()) {
        visit.accept(a.getTBuilder(), at);
      }
      for (TensorProto.Builder t : a.getTensorsBuilderList()) {
        visit.accept(t, at);
      }
      if (a.hasSparseTensor()) {
        sparse(a.getSparseTensorBuilder(), at, visit);
      }
      for (SparseTensorProto.Builder sp : a.getSparseTensorsBuilderList()) {
        sparse(sp, at, visit);
      }
      if (a.hasG()) {
        graph(a.getGBuilder(), at, visit, depth + 1);
      }
      for (GraphProto.Builder sub : a.getGraphsBuilderList()) {
        graph(sub, at, visit, depth + 1);
      }
    }
  }

  private static void sparse(
      SparseTensorProto.Builder sp, String what, BiConsumer<TensorProto.Builder, String> visit) {
    if (sp.hasValues()) {
      visit.accept(sp.getValuesBuilder(), what + " values");
    }
    if (sp.hasIndices()) {
      visit.accept(sp.getIndicesBuilder(), what + " indices");
    }
  }
}
