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

/**
 * ONNX external data, read by cmod itself: each file is opened through {@link SafeFiles} with the
 * {@link SafeFiles.Policy#MODEL} policy (regular file, one link, no symbolic link, checked on the
 * opened file), its range is checked against the file's real size, and the bytes it would take
 * are checked against a budget before anything is allocated.
 *
 * <p>{@link #inline} turns a model with external data into a self-contained one, so ONNX Runtime
 * never opens a file named by the model (the paths were checked by {@link OnnxChecks}; reading
 * them here, once, leaves no window between that check and a second read).
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
   * (so a model that claims gigabytes is refused with a message instead of exhausting memory),
   * at most 2 GiB (the largest protobuf message ONNX Runtime accepts from memory).
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
    /** A first pass that only adds up what the tensors claim, before anything is read. */
    boolean dry;

    Budget(long limit) {
      this.limit = limit;
    }

    void take(long bytes, String what) {
      if (bytes < 0 || bytes > limit - used) {
        throw new ExternalDataException(what + ": the model's external data needs more than " + limit
            + " bytes (" + (bytes < 0 ? "an unknown amount" : Long.toString(used + bytes)) + " so far), more than cmod reads with this heap; "
            + "raise the heap with CMOD_JAVA_OPTS=-Xmx... or CMOD_MAX_EXTERNAL_BYTES", true);
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
          default -> { }
        }
      } catch (NumberFormatException ex) {
        throw new ExternalDataException(what + ": external data " + e.getKey() + " is not a number");
      }
    }
    if (dir == null || location == null) {
      throw new ExternalDataException(what + ": external data without a model directory or location");
    }
    if (want < 0) {
      want = length;
    }
    if (want < 0 || (length >= 0 && length != want)) {
      throw new ExternalDataException(what + ": external data length " + length + " does not match " + want + " bytes");
    }
    Path base = dir.toAbsolutePath().normalize();
    Path file;
    try {
      file = base.resolve(location).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      throw new ExternalDataException(what + ": external data path is not a valid path (" + e.getReason() + ")");
    }
    if (!file.startsWith(base) || file.equals(base)) {
      throw new ExternalDataException(what + ": external data path '" + location + "' leaves the model directory");
    }
    try (FileChannel ch = SafeFiles.open(file, SafeFiles.Policy.MODEL, Long.MAX_VALUE)) {
      long size = ch.size();
      if (offset < 0 || offset > size || want > size - offset) {
        throw new ExternalDataException(what + ": external data [" + offset + ", " + (offset + want) + ") is beyond the end of '"
            + location + "' (" + size + " bytes)");
      }
      if (want > Integer.MAX_VALUE - 8) {
        throw new ExternalDataException(what + ": external data of " + want + " bytes is over the 2 GiB cmod reads per tensor", true);
      }
      budget.take(want, what);
      ByteBuffer buf = ByteBuffer.allocate((int) want);
      long pos = offset;
      while (buf.hasRemaining()) {
        int k = ch.read(buf, pos);
        if (k < 0) {
          throw new ExternalDataException(what + ": external data file '" + location + "' became shorter while it was read");
        }
        pos += k;
      }
      buf.flip();
      return ByteString.copyFrom(buf);
    } catch (IOException e) {
      throw new ExternalDataException(what + ": cannot read external data '" + location + "': "
          + (e instanceof SafeFiles.RefusedException ? "it " : "") + SafeFiles.describe(e));
    }
  }

  /** Whether a serialized model refers to external data anywhere (initializers, attributes, subgraphs, functions). */
  public static boolean uses(byte[] model) {
    try {
      ModelProto m = ModelProto.parseFrom(model);
      return inline(m, null, null, true) == null;
    } catch (InvalidProtocolBufferException e) {
      return false;
    }
  }

  /**
   * The model with every external tensor's data read into {@code raw_data}. Validate the model
   * with {@link OnnxChecks} first.
   */
  public static byte[] inline(byte[] model, Path dir) {
    ModelProto m;
    try {
      m = ModelProto.parseFrom(model);
    } catch (InvalidProtocolBufferException e) {
      throw new ExternalDataException("not a valid ONNX model: " + e.getMessage());
    }
    // first add up what every external tensor claims, so an over-budget model is refused before
    // a byte is read; then read
    Budget claims = new Budget(budgetBytes());
    claims.dry = true;
    inline(m, dir, claims, false);
    ModelProto out = inline(m, dir, new Budget(budgetBytes()), false);
    return out == m ? model : out.toByteArray();
  }

  /** Refuses a model whose external tensors claim more than the budget in all, before any is read. */
  static void checkClaims(ModelProto m, Path dir) {
    Budget claims = new Budget(budgetBytes());
    claims.dry = true;
    inline(m, dir, claims, false);
  }

  /** With {@code probe}, returns null as soon as external data is seen (nothing is read). */
  private static ModelProto inline(ModelProto m, Path dir, Budget b, boolean probe) {
    ModelProto.Builder mb = null;
    if (m.hasGraph()) {
      GraphProto g = graph(m.getGraph(), "graph", dir, b, probe);
      if (g == null) {
        return null;
      }
      if (g != m.getGraph()) {
        mb = m.toBuilder().setGraph(g);
      }
    }
    for (int i = 0; i < m.getFunctionsCount(); i++) {
      FunctionProto f = m.getFunctions(i);
      FunctionProto.Builder fb = null;
      for (int j = 0; j < f.getNodeCount(); j++) {
        NodeProto n = node(f.getNode(j), "function '" + f.getName() + "'", dir, b, probe);
        if (n == null) {
          return null;
        }
        if (n != f.getNode(j)) {
          if (fb == null) {
            fb = f.toBuilder();
          }
          fb.setNode(j, n);
        }
      }
      if (fb != null) {
        if (mb == null) {
          mb = m.toBuilder();
        }
        mb.setFunctions(i, fb);
      }
    }
    return mb == null ? m : mb.build();
  }

  private static GraphProto graph(GraphProto g, String where, Path dir, Budget b, boolean probe) {
    GraphProto.Builder gb = null;
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      TensorProto r = tensor(t, where + " initializer '" + t.getName() + "'", dir, b, probe);
      if (r == null) {
        return null;
      }
      if (r != t) {
        if (gb == null) {
          gb = g.toBuilder();
        }
        gb.setInitializer(i, r);
      }
    }
    for (int i = 0; i < g.getSparseInitializerCount(); i++) {
      SparseTensorProto sp = g.getSparseInitializer(i);
      SparseTensorProto r = sparse(sp, where + " sparse initializer", dir, b, probe);
      if (r == null) {
        return null;
      }
      if (r != sp) {
        if (gb == null) {
          gb = g.toBuilder();
        }
        gb.setSparseInitializer(i, r);
      }
    }
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeProto n = node(g.getNode(i), where, dir, b, probe);
      if (n == null) {
        return null;
      }
      if (n != g.getNode(i)) {
        if (gb == null) {
          gb = g.toBuilder();
        }
        gb.setNode(i, n);
      }
    }
    return gb == null ? g : gb.build();
  }

  private static NodeProto node(NodeProto n, String where, Path dir, Budget b, boolean probe) {
    NodeProto.Builder nb = null;
    for (int i = 0; i < n.getAttributeCount(); i++) {
      AttributeProto a = n.getAttribute(i);
      String at = where + " node '" + n.getName() + "' attribute '" + a.getName() + "'";
      AttributeProto.Builder ab = null;
      if (a.hasT()) {
        TensorProto r = tensor(a.getT(), at, dir, b, probe);
        if (r == null) {
          return null;
        }
        if (r != a.getT()) {
          ab = a.toBuilder().setT(r);
        }
      }
      for (int j = 0; j < a.getTensorsCount(); j++) {
        TensorProto r = tensor(a.getTensors(j), at, dir, b, probe);
        if (r == null) {
          return null;
        }
        if (r != a.getTensors(j)) {
          ab = (ab == null ? a.toBuilder() : ab).setTensors(j, r);
        }
      }
      if (a.hasSparseTensor()) {
        SparseTensorProto r = sparse(a.getSparseTensor(), at, dir, b, probe);
        if (r == null) {
          return null;
        }
        if (r != a.getSparseTensor()) {
          ab = (ab == null ? a.toBuilder() : ab).setSparseTensor(r);
        }
      }
      for (int j = 0; j < a.getSparseTensorsCount(); j++) {
        SparseTensorProto r = sparse(a.getSparseTensors(j), at, dir, b, probe);
        if (r == null) {
          return null;
        }
        if (r != a.getSparseTensors(j)) {
          ab = (ab == null ? a.toBuilder() : ab).setSparseTensors(j, r);
        }
      }
      if (a.hasG()) {
        GraphProto r = graph(a.getG(), at, dir, b, probe);
        if (r == null) {
          return null;
        }
        if (r != a.getG()) {
          ab = (ab == null ? a.toBuilder() : ab).setG(r);
        }
      }
      for (int j = 0; j < a.getGraphsCount(); j++) {
        GraphProto r = graph(a.getGraphs(j), at, dir, b, probe);
        if (r == null) {
          return null;
        }
        if (r != a.getGraphs(j)) {
          ab = (ab == null ? a.toBuilder() : ab).setGraphs(j, r);
        }
      }
      if (ab != null) {
        if (nb == null) {
          nb = n.toBuilder();
        }
        nb.setAttribute(i, ab);
      }
    }
    return nb == null ? n : nb.build();
  }

  private static SparseTensorProto sparse(SparseTensorProto sp, String what, Path dir, Budget b, boolean probe) {
    SparseTensorProto.Builder sb = null;
    if (sp.hasValues()) {
      TensorProto r = tensor(sp.getValues(), what + " values", dir, b, probe);
      if (r == null) {
        return null;
      }
      if (r != sp.getValues()) {
        sb = sp.toBuilder().setValues(r);
      }
    }
    if (sp.hasIndices()) {
      TensorProto r = tensor(sp.getIndices(), what + " indices", dir, b, probe);
      if (r == null) {
        return null;
      }
      if (r != sp.getIndices()) {
        sb = (sb == null ? sp.toBuilder() : sb).setIndices(r);
      }
    }
    return sb == null ? sp : sb.build();
  }

  private static TensorProto tensor(TensorProto t, String what, Path dir, Budget b, boolean probe) {
    if (t.getDataLocation() != TensorProto.DataLocation.EXTERNAL) {
      return t;
    }
    if (probe) {
      return null;
    }
    if (b.dry) {
      long claim = bytesOf(t);
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
        throw new ExternalDataException(what + ": external data of " + claim + " bytes is over the 2 GiB cmod reads per tensor", true);
      }
      if (claim >= 0) {
        b.take(claim, what);
      }
      return t;
    }
    ByteString data = read(t, what, dir, bytesOf(t), b);
    return t.toBuilder().clearExternalData().setDataLocation(TensorProto.DataLocation.DEFAULT).setRawData(data).build();
  }
}
