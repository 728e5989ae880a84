package dev.cmod.ir.io;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NumPy {@code .npy} files. Reads format versions 1.0, 2.0 and 3.0 with little-endian data of every
 * ONNX numeric type NumPy has, in C order; writes version 1.0.
 *
 * <p>Every dtype keeps its type both ways: {@code <f4} F32, {@code <f8} F64 (exact values kept),
 * {@code <f2} F16, {@code <i8 <i4 <i2 |i1} I64 I32 I16 I8, {@code <u8 <u4 <u2 |u1} U64 U32 U16 U8,
 * {@code |b1} BOOL. Files are opened through {@link SafeFiles} (regular files only, size checked
 * first). On write BF16, which NumPy lacks, is widened to {@code <f4}.
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private Npy() {}

  /** Reads a .npy file. */
  public static Tensor read(Path file) {
    return read(readFile(file), file.toString());
  }

  static byte[] readFile(Path file) {
    try {
      return SafeFiles.readAll(file, SafeFiles.Policy.USER, MAX_ELEMENTS);
    } catch (IOException e) {
      throw new TensorFileException("cannot read " + file + ": " + SafeFiles.describe(e), e);
    }
  }

  /** Parses the bytes of a .npy file; {@code name} is used in error messages. */
  public static Tensor read(byte[] data, String name) {
    if (data.length < 10) {
      throw new TensorFileException(name + ": not a .npy file (only " + data.length + " bytes)");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (data[i] != MAGIC[i]) {
        throw new TensorFileException(name + ": not a .npy file (bad magic bytes)");
      }
    }
    int major = data[6] & 0xff;
    int minor = data[7] & 0xff;
    ByteBuffer bb = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    long headerLen;
    int start;
    if (major == 1) {
      headerLen = bb.getShort(8) & 0xffff;
      start = 10;
    } else if (major == 2 || major == 3) {
      if (data.length < 12) {
        throw new TensorFileException(name + ": truncated .npy header");
      }
      headerLen = bb.getInt(8) & 0xffffffffL;
      start = 12;
    } else {
      throw new TensorFileException(
          name + ": unsupported .npy format version " + major + "." + minor);
    }
    if (headerLen > data.length - start) {
      throw new TensorFileException(
          name
              + ": header length "
              + headerLen
              + " runs past the end of the file ("
              + data.length
              + " bytes)");
    }
    int dataStart = start + (int) headerLen;
    String header =
        new String(
            data,
            start,
            (int) headerLen,
            major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Map<String, Object> dict;
    try {
      dict = new HeaderParser(header).parse();
    } catch (IllegalArgumentException e) {
      throw new TensorFileException(name + ": malformed .npy header: " + e.getMessage());
    }
    for (String k : dict.keySet()) {
      if (!k.equals("descr") && !k.equals("fortran_order") && !k.equals("shape")) {
        throw new TensorFileException(name + ": unexpected key '" + k + "' in .npy header");
      }
    }
    if (!(dict.get("descr") instanceof String descr)) {
      throw new TensorFileException(name + ": .npy header needs a string 'descr'");
    }
    if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
      throw new TensorFileException(name + ": .npy header needs a boolean 'fortran_order'");
    }
    if (!(dict.get("shape") instanceof List<?> shapeList)) {
      throw new TensorFileException(name + ": .npy header needs a tuple 'shape'");
    }
    if (fortran) {
      throw new TensorFileException(
          name
              + ": Fortran-order arrays are not supported;"
              + " save a C-order copy (numpy.ascontiguousarray) instead");
    }
    DType kind = dtypeOf(descr, name);
    long[] shape = new long[shapeList.size()];
    boolean empty = false;
    for (int i = 0; i < shape.length; i++) {
      long d = (Long) shapeList.get(i);
      if (d < 0) {
        throw new TensorFileException(
            name + ": negative dimension " + d + " in shape " + shapeText(shapeList));
      }
      shape[i] = d;
      empty |= d == 0;
    }
    long numel = empty ? 0 : 1;
    for (long d : shape) {
      if (!empty) {
        if (numel > MAX_ELEMENTS / d) {
          throw new TensorFileException(
              name + ": shape " + shapeText(shapeList) + " has too many elements");
        }
        numel *= d;
      }
    }
    long need = numel * kind.byteSize;
    long have = data.length - dataStart;
    if (need > have) {
      throw new TensorFileException(
          name
              + ": shape "
              + shapeText(shapeList)
              + " of "
              + descr
              + " needs "
              + need
              + " bytes of data but the file has only "
              + have
              + " (truncated?)");
    }
    if (need < have) {
      throw new TensorFileException(
          name + ": " + (have - need) + " unexpected bytes after the data");
    }
    return decode(
        kind, shape, (int) numel, bb.position(dataStart).slice().order(ByteOrder.LITTLE_ENDIAN));
  }

  /**
   * The element type a NumPy dtype string stands for (single bytes may be {@code |} or {@code <}).
   */
  private static DType dtypeOf(String descr, String name) {
    String d =
        descr.length() == 3 && descr.endsWith("1") && descr.startsWith("<")
            ? "|" + descr.substring(1)
            : descr;
    for (DType t : DType.values()) {
      if (t != DType.BF16 && descrOf(t).equals(d)) {
        return t;
      }
    }
    if (descr.startsWith(">")) {
      throw new TensorFileException(
          name
              + ": big-endian data ("
              + descr
              + ") is not supported;"
              + " convert with arr.astype(arr.dtype.newbyteorder('<'))");
    }
    throw new TensorFileException(
        name
            + ": unsupported dtype '"
            + descr
            + "' (supported: <f4 <f8 <f2 <i8 <i4 <i2 |i1 <u8 <u4 <u2 |u1 |b1)");
  }

  /** The NumPy dtype string of {@code t}; BF16, which NumPy lacks, is written as {@code <f4}. */
  private static String descrOf(DType t) {
    return switch (t) {
      case F32, BF16 -> "<f4";
      case F16 -> "<f2";
      case F64 -> "<f8";
      case I64 -> "<i8";
      case I32 -> "<i4";
      case I16 -> "<i2";
      case I8 -> "|i1";
      case U64 -> "<u8";
      case U32 -> "<u4";
      case U16 -> "<u2";
      case U8 -> "|u1";
      case BOOL -> "|b1";
    };
  }

  private static Tensor decode(DType dt, long[] shape, int n, ByteBuffer b) {
    switch (dt) {
      case F64:
        {
          double[] d = new double[n];
          for (int i = 0; i < n; i++) {
            d[i] = b.getDouble(8 * i);
          }
          return Tensor.ofDoubles(shape, d);
        }
      case F32, F16:
        {
          float[] f = new float[n];
          for (int i = 0; i < n; i++) {
            f[i] = dt == DType.F32 ? b.getFloat(4 * i) : HalfFloats.halfToFloat(b.getShort(2 * i));
          }
          return Tensor.ofFloats(dt, shape, f);
        }
      default:
        {
          long[] l = new long[n];
          for (int i = 0; i < n; i++) {
            l[i] =
                switch (dt) {
                  case I64, U64 -> b.getLong(8 * i);
                  case I32 -> b.getInt(4 * i);
                  case U32 -> b.getInt(4 * i) & 0xffffffffL;
                  case I16 -> b.getShort(2 * i);
                  case U16 -> b.getShort(2 * i) & 0xffff;
                  case I8 -> b.get(i);
                  case BOOL -> b.get(i) != 0 ? 1 : 0;
                  default -> b.get(i) & 0xff;
                };
          }
          return Tensor.ofLongs(dt, shape, l);
        }
    }
  }

  private static String shapeText(List<?> shape) {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < shape.size(); i++) {
      sb.append(i > 0 ? ", " : "").append(shape.get(i));
    }
    return sb.append(shape.size() == 1 ? ",)" : ")").toString();
  }

  /** Writes {@code t} as a version 1.0 .npy file, through a temporary file and an atomic move. */
  public static void write(Path file, Tensor t) {
    AtomicFiles.write(file, toBytes(t));
  }

  /** The bytes of a version 1.0 .npy file holding {@code t}. */
  public static byte[] toBytes(Tensor t) {
    String descr = descrOf(t.dtype());
    DType kind = t.dtype() == DType.BF16 ? DType.F32 : t.dtype();
    List<Long> dims = new ArrayList<>();
    for (long d : t.shape()) {
      dims.add(d);
    }
    String dict =
        "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText(dims) + ", }";
    int total = 10 + dict.length() + 1;
    int pad = (64 - total % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    if (header.length() > 0xffff) {
      throw new TensorFileException("tensor of rank " + t.rank() + " has too long a .npy header");
    }
    int n = t.size();
    ByteBuffer b =
        ByteBuffer.allocate(10 + header.length() + n * kind.byteSize)
            .order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    b.put(header.getBytes(StandardCharsets.ISO_8859_1));
    double[] exact = kind == DType.F64 ? t.doubles() : null;
    for (int i = 0; i < n; i++) {
      switch (kind) {
        case F32 -> b.putFloat(t.floats()[i]);
        case F16 -> b.putShort(HalfFloats.floatToHalf(t.floats()[i]));
        case F64 -> b.putDouble(exact[i]);
        case I64, U64 -> b.putLong(t.longs()[i]);
        case I32, U32 -> b.putInt((int) t.longs()[i]);
        case I16, U16 -> b.putShort((short) t.longs()[i]);
        case BOOL -> b.put((byte) (t.longs()[i] != 0 ? 1 : 0));
        default -> b.put((byte) t.longs()[i]);
      }
    }
    return b.array();
  }

  /** A parser for the Python dict literal of a .npy header. */
  private static final class HeaderParser {
    private final String s;
    private int pos;

    HeaderParser(String s) {
      this.s = s;
    }

    Map<String, Object> parse() {
      Map<String, Object> out = new LinkedHashMap<>();
      ws();
      expect('{');
      while (true) {
        ws();
        if (peek() == '}') {
          pos++;
          break;
        }
        String key = string();
        ws();
        expect(':');
        ws();
        Object value = value();
        if (out.put(key, value) != null) {
          throw new IllegalArgumentException("duplicate key '" + key + "'");
        }
        ws();
        char c = next();
        if (c == '}') {
          break;
        }
        if (c != ',') {
          throw new IllegalArgumentException("expected ',' or '}' at offset " + (pos - 1));
        }
      }
      ws();
      if (pos != s.length()) {
        throw new IllegalArgumentException("unexpected text after the dict at offset " + pos);
      }
      return out;
    }

    private Object value() {
      char c = peek();
      if (c == '\'' || c == '"') {
        return string();
      }
      if (c == '(') {
        pos++;
        List<Long> items = new ArrayList<>();
        while (true) {
          ws();
          if (peek() == ')') {
            pos++;
            return items;
          }
          items.add(integer());
          ws();
          char d = next();
          if (d == ')') {
            return items;
          }
          if (d != ',') {
            throw new IllegalArgumentException(
                "expected ',' or ')' in the shape at offset " + (pos - 1));
          }
        }
      }
      if (s.startsWith("True", pos)) {
        pos += 4;
        return Boolean.TRUE;
      }
      if (s.startsWith("False", pos)) {
        pos += 5;
        return Boolean.FALSE;
      }
      throw new IllegalArgumentException("unexpected value at offset " + pos);
    }

    private long integer() {
      int begin = pos;
      boolean neg = false;
      if (peek() == '-') {
        neg = true;
        pos++;
      }
      long v = 0;
      int digits = 0;
      while (pos < s.length() && Character.isDigit(s.charAt(pos)) && s.charAt(pos) < 128) {
        if (v > (Long.MAX_VALUE - 9) / 10) {
          throw new IllegalArgumentException(
              "dimension "
                  + s.substring(begin, Math.min(s.length(), pos + 1))
                  + "... is too large");
        }
        v = v * 10 + (s.charAt(pos++) - '0');
        digits++;
      }
      if (digits == 0) {
        throw new IllegalArgumentException("expected an integer at offset " + begin);
      }
      if (pos < s.length() && s.charAt(pos) == 'L') {
        pos++; // Python 2 long suffix
      }
      return neg ? -v : v;
    }

    private String string() {
      char q = next();
      if (q != '\'' && q != '"') {
        throw new IllegalArgumentException("expected a quoted string at offset " + (pos - 1));
      }
      int end = s.indexOf(q, pos);
      if (end < 0) {
        throw new IllegalArgumentException("unterminated string at offset " + (pos - 1));
      }
      String out = s.substring(pos, end);
      if (out.indexOf('\\') >= 0) {
        throw new IllegalArgumentException("escapes in strings are not supported");
      }
      pos = end + 1;
      return out;
    }

    private void ws() {
      while (pos < s.length()
          && (s.charAt(pos) == ' '
              || s.charAt(pos) == '\t'
              || s.charAt(pos) == '\n'
              || s.charAt(pos) == '\r')) {
        pos++;
      }
    }

    private char peek() {
      if (pos >= s.length()) {
        throw new IllegalArgumentException("unexpected end of header");
      }
      return s.charAt(pos);
    }

    private char next() {
      char c = peek();
      pos++;
      return c;
    }

    private void expect(char c) {
      if (next() != c) {
        throw new IllegalArgumentException("expected '" + c + "' at offset " + (pos - 1));
      }
    }
  }
}
