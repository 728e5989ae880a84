package dev.cmod.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime's adapter file ({@code .onnx_adapter}), written and read in Java: a FlatBuffers
 * buffer with the file identifier {@code TORT} whose root table {@code Adapter} holds {@code
 * format_version} (1), {@code adapter_version}, {@code model_version} and a vector of {@code
 * Parameter} tables (name, dims as int64, data type as ONNX's TensorProto code, raw little-endian
 * data aligned to 8), as ONNX Runtime's adapter schema defines them. ONNX Runtime loads such a file
 * with {@code OrtLoraAdapter} and feeds its tensors, by name, to a run it is activated for.
 *
 * <p>The writer lays the buffer out front to back (every offset points forward, as FlatBuffers
 * requires of unsigned offsets): root offset and identifier, the adapter's vtable and table, the
 * parameter vector, then per parameter its vtable, table, name, dims and data. The reader checks
 * every offset against the buffer before it follows it, so a damaged file is an {@link
 * AdapterFileException}, and checks that each parameter's data has as many bytes as its shape and
 * type need (ONNX Runtime does not). A scalar cannot be written: ONNX Runtime refuses a parameter
 * without dims.
 */
public final class OnnxAdapterFile {
  /** The format version ONNX Runtime 1.20+ reads. */
  public static final int FORMAT_VERSION = 1;

  /** FlatBuffers file identifier of adapter files. */
  public static final String IDENTIFIER = "TORT";

  /** An adapter file that cannot be read (damaged, not this format, an unknown type). */
  public static final class AdapterFileException extends RuntimeException {
    AdapterFileException(String message) {
      super(message);
    }
  }

  private OnnxAdapterFile() {}

  /**
   * The file's bytes for {@code params} (by name, in the order given).
   *
   * @param adapterVersion and {@code modelVersion}: the user's version numbers, stored as given
   */
  public static byte[] write(Map<String, Tensor> params, int adapterVersion, int modelVersion) {
    for (Map.Entry<String, Tensor> e : params.entrySet()) {
      if (e.getValue().rank() == 0) {
        // ONNX Runtime (1.29) refuses a parameter without dims when it loads the file
        throw new AdapterFileException(
            "adapter parameter '"
                + e.getKey()
                + "' is a scalar; adapter files hold tensors of rank 1 or more");
      }
    }
    Out o = new Out();
    o.u32(0); // root offset, patched
    o.bytes(IDENTIFIER.getBytes(StandardCharsets.US_ASCII));
    int vt = o.pos();
    o.u16(4 + 2 * 4);
    o.u16(4 + 4 * 4);
    for (int f = 0; f < 4; f++) {
      o.u16(4 + 4 * f);
    }
    int table = o.pos();
    o.patch(0, table);
    o.i32(table - vt);
    o.i32(FORMAT_VERSION);
    o.i32(adapterVersion);
    o.i32(modelVersion);
    int paramsField = o.pos();
    o.u32(0);
    int vector = o.pos();
    o.patch(paramsField, vector - paramsField);
    o.u32(params.size());
    int slots = o.pos();
    for (int i = 0; i < params.size(); i++) {
      o.u32(0);
    }
    int i = 0;
    for (Map.Entry<String, Tensor> e : params.entrySet()) {
      int slot = slots + 4 * i++;
      writeParameter(o, slot, e.getKey(), e.getValue());
    }
    return o.toByteArray();
  }

  private static void writeParameter(Out o, int slot, String name, Tensor t) {
    o.align(4);
    int vt = o.pos();
    o.u16(4 + 2 * 4);
    o.u16(4 + 4 * 4);
    for (int f = 0; f < 4; f++) {
      o.u16(4 + 4 * f);
    }
    int table = o.pos();
    o.patch(slot, table - slot);
    o.i32(table - vt);
    int nameField = o.pos();
    o.u32(0);
    int dimsField = o.pos();
    o.u32(0);
    o.i32(t.dtype().onnxCode);
    int dataField = o.pos();
    o.u32(0);
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    o.patch(nameField, o.pos() - nameField);
    o.u32(utf8.length);
    o.bytes(utf8);
    o.u8(0);
    o.alignForVector(8);
    o.patch(dimsField, o.pos() - dimsField);
    o.u32(t.rank());
    for (long d : t.shape()) {
      o.i64(d);
    }
    byte[] raw = TensorProtos.rawBytes(t);
    o.alignForVector(8);
    o.patch(dataField, o.pos() - dataField);
    o.u32(raw.length);
    o.bytes(raw);
  }

  /** The parameters of an adapter file, by name in file order. */
  public static Map<String, Tensor> read(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 8
        || !IDENTIFIER.equals(new String(bytes, 4, 4, StandardCharsets.US_ASCII))) {
      throw new AdapterFileException(
          "not an ONNX Runtime adapter file (no FlatBuffers identifier " + IDENTIFIER + ")");
    }
    int root = offset(b, 0);
    int version = field(b, root, 0) == 0 ? 0 : b.getInt(field(b, root, 0));
    if (version != FORMAT_VERSION) {
      throw new AdapterFileException("adapter format version " + version + " is not 1");
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    int pf = field(b, root, 3);
    if (pf == 0) {
      return out;
    }
    int vec = offset(b, pf);
    int n = count(b, vec, 4);
    for (int i = 0; i < n; i++) {
      int slot = vec + 4 + 4 * i;
      int p = offset(b, slot);
      String name = string(b, p);
      int df = field(b, p, 1);
      int dtf = field(b, p, 2);
      int rf = field(b, p, 3);
      if (df == 0 || dtf == 0 || rf == 0) {
        throw new AdapterFileException("parameter '" + name + "' lacks dims, type or data");
      }
      DType dt = DType.fromOnnx(b.getInt(dtf));
      if (dt == null) {
        throw new AdapterFileException(
            "parameter '" + name + "' has data type " + b.getInt(dtf) + ", which cmod reads not");
      }
      int dims = offset(b, df);
      int rank = count(b, dims, 8);
      TensorProto.Builder tp = TensorProto.newBuilder().setName(name).setDataType(dt.onnxCode);
      long numel = 1;
      for (int k = 0; k < rank; k++) {
        long d = b.getLong(dims + 4 + 8 * k);
        if (d < 0 || (d > 0 && numel > Long.MAX_VALUE / d)) {
          throw new AdapterFileException("parameter '" + name + "' has a bad dimension " + d);
        }
        numel *= d;
        tp.addDims(d);
      }
      int raw = offset(b, rf);
      int len = count(b, raw, 1);
      if (numel * dt.byteSize != len) {
        throw new AdapterFileException(
            "parameter '"
                + name
                + "' holds "
                + len
                + " bytes, its shape and type need "
                + numel * dt.byteSize);
      }
      tp.setRawData(com.google.protobuf.ByteString.copyFrom(bytes, raw + 4, len));
      if (out.put(name, OnnxImporter.readTensor(tp.build().toByteArray())) != null) {
        throw new AdapterFileException("parameter '" + name + "' appears twice");
      }
    }
    return out;
  }

  /** The position a uoffset at {@code at} points to, checked to lie in the buffer. */
  private static int offset(ByteBuffer b, int at) {
    check(b, at, 4);
    long target = at + (b.getInt(at) & 0xffffffffL);
    if (target >= b.limit()) {
      throw new AdapterFileException("damaged adapter file: an offset points past its end");
    }
    return (int) target;
  }

  /** The position of field {@code index} of the table at {@code table}, or 0 when absent. */
  private static int field(ByteBuffer b, int table, int index) {
    check(b, table, 4);
    long vt = (long) table - b.getInt(table);
    if (vt < 0 || vt + 4 > b.limit()) {
      throw new AdapterFileException("damaged adapter file: a table's vtable is outside it");
    }
    int vsize = b.getShort((int) vt) & 0xffff;
    int tsize = b.getShort((int) vt + 2) & 0xffff;
    check(b, (int) vt, vsize);
    check(b, table, tsize);
    int slot = 4 + 2 * index;
    if (slot + 2 > vsize) {
      return 0;
    }
    int off = b.getShort((int) vt + slot) & 0xffff;
    if (off == 0) {
      return 0;
    }
    if (off + 4 > tsize) {
      throw new AdapterFileException("damaged adapter file: a field lies outside its table");
    }
    return table + off;
  }

  /** A vector's length, checked so that its elements of {@code size} bytes fit in the buffer. */
  private static int count(ByteBuffer b, int vec, int size) {
    check(b, vec, 4);
    long n = b.getInt(vec) & 0xffffffffL;
    check(b, vec + 4, n * size);
    return (int) n;
  }

  private static String string(ByteBuffer b, int table) {
    int f = field(b, table, 0);
    if (f == 0) {
      throw new AdapterFileException("an adapter parameter has no name");
    }
    int s = offset(b, f);
    int len = count(b, s, 1);
    return new String(b.array(), s + 4, len, StandardCharsets.UTF_8);
  }

  private static void check(ByteBuffer b, long at, long size) {
    if (at < 0 || size < 0 || at + size > b.limit()) {
      throw new AdapterFileException("damaged adapter file: it ends inside a table or vector");
    }
  }

  /** A growing little-endian buffer with patchable offsets. */
  private static final class Out {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final List<int[]> patches = new ArrayList<>();

    int pos() {
      return bytes.size();
    }

    void u8(int v) {
      bytes.write(v);
    }

    void u16(int v) {
      u8(v & 0xff);
      u8((v >>> 8) & 0xff);
    }

    void i32(int v) {
      u16(v & 0xffff);
      u16((v >>> 16) & 0xffff);
    }

    void u32(long v) {
      i32((int) v);
    }

    void i64(long v) {
      i32((int) v);
      i32((int) (v >>> 32));
    }

    void bytes(byte[] b) {
      bytes.write(b, 0, b.length);
    }

    void align(int n) {
      while (pos() % n != 0) {
        u8(0);
      }
    }

    /** Pads so that a vector's elements, after its 4-byte length, start at a multiple of n. */
    void alignForVector(int n) {
      align(4);
      while ((pos() + 4) % n != 0) {
        u8(0);
      }
    }

    void patch(int at, int value) {
      patches.add(new int[] {at, value});
    }

    byte[] toByteArray() {
      byte[] out = bytes.toByteArray();
      ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
      for (int[] p : patches) {
        b.putInt(p[0], p[1]);
      }
      return out;
    }
  }
}
