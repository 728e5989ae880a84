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
 * NumPy {@code .npy} files. Reads format versions 1.0, 2.0 and 3.0 with little-endian {@code f4 f8
 * f2 i8 i4} and {@code b1 u1} data in C order; writes version 1.0.
 *
 * <p>On read every dtype keeps its type: {@code <f4} F32, {@code <f8} F64 (exact values kept),
 * {@code <f2} F16, {@code <i8} I64, {@code <i4} I32, {@code |b1} BOOL; {@code |u1} (which the IR
 * lacks) becomes I64. Files are opened through {@link SafeFiles} (regular files only, size checked
 * first). On write, F32/F16/F64/I64/I32/BOOL use their own NumPy dtype and BF16 (which NumPy lacks)
 * is widened to {@code <f4}.
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
    Kind kind = kindOf(descr, name);
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
    long need = numel * kind.size;
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

  private enum Kind {
    F4(4),
    F8(8),
    F2(2),
    I8(8),
    I4(4),
    B1(1),
    U1(1);
    final int size;

    Kind(int size) {
      this.size = size;
    }
  }

  private static Kind kindOf(String descr, String name) {
    switch (descr) {
      case "<f4":
        return Kind.F4;
      case "<f8":
        return Kind.F8;
      case "<f2":
        return Kind.F2;
      case "<i8":
        return Kind.I8;
      case "<i4":
        return Kind.I4;
      case "|b1":
        return Kind.B1;
      case "|u1":
        return Kind.U1;
      default:
        if (descr.startsWith(">")) {
          throw new TensorFileException(
              name
                  + ": big-endian data ("
                  + descr
                  + ") is not supported;"
                  + " convert with arr.astype(arr.dtype.newbyteorder('<'))");
        }
        throw new TensorFileException(
            name + ": unsupported dtype '" + descr + "' (supported: <f4 <f8 <f2 <i8 <i4 |b1 |u1)");
    }
  }

  private static Tensor decode(Kind kind, long[] shape, int n, ByteBuffer b) {
    switch (kind) {
      case F8:
        {
          double[] d = new double[n];
          for (int i = 0; i < n; i++) {
            d[i] = b.getDouble(8 * i);
          }
          return Tensor.ofDoubles(shape, d);
        }
      case F4, F2:
        {
          float[] f = new float[n];
          for (int i = 0; i < n; i++) {
            f[i] = kind == Kind.F4 ? b.getFloat(4 * i) : HalfFloats.halfToFloat(b.getShort(2 * i));
          }
          return Tensor.ofFloats(kind == Kind.F4 ? DType.F32 : DType.F16, shape, f);
        }
      default:
        {
          long[] l = new long[n];
          for (int i = 0; i < n; i++) {
            l[i] =
                switch (kind) {
                  case I8 -> b.getLong(8 * i);
                  case I4 -> b.getInt(4 * i);
                  case B1 -> b.get(i) != 0 ? 1 : 0;
                  default -> b.get(i) & 0xff;
                };
          }
          return Tensor.ofLongs(
              kind == Kind.B1 ? DType.BOOL : kind == Kind.I4 ? DType.I32 : DType.I64, shape, l);
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
    String descr =
        switch (t.dtype()) {
          case F32, BF16 -> "<f4";
          case F16 -> "<f2";
          case F64 -> "<f8";
          case I64 -> "<i8";
          case I32 -> "<i4";
          case BOOL -> "|b1";
        };
    Kind kind = kindOf(descr, "");
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
        ByteBuffer.allocate(10 + header.length() + n * kind.size).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    b.put(header.getBytes(StandardCharsets.ISO_8859_1));
    double[] exact = kind == Kind.F8 ? t.doubles() : null;
    for (int i = 0; i < n; i++) {
      switch (kind) {
        case F4 -> b.putFloat(t.floats()[i]);
        case F2 -> b.putShort(HalfFloats.floatToHalf(t.floats()[i]));
        case F8 -> b.putDouble(exact[i]);
        case I8 -> b.putLong(t.longs()[i]);
        case I4 -> b.putInt((int) t.longs()[i]);
        default -> b.put((byte) (t.longs()[i] != 0 ? 1 : 0));
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
