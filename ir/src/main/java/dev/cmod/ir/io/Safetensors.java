package dev.cmod.ir.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Safetensors files: an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw little-endian data. Supports F32, F16, BF16, F64, I64,
 * I32 and BOOL; f16/bf16/f64 data is held as {@code float} and keeps its dtype. The whole header is
 * validated before any tensor is allocated.
 */
public final class Safetensors {
  /** The largest header accepted, in bytes. */
  public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;
  private static final String METADATA = "__metadata__";
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  private Safetensors() {}

  /** One validated header entry. */
  private record Entry(String name, DType dtype, long[] shape, int numel, long begin, long end) {}

  /** A validated header. */
  private record Header(
      long dataStart, TreeMap<String, Entry> entries, Map<String, String> metadata) {}

  /** Random access to the file's bytes. */
  private interface Source {
    long size();

    ByteBuffer read(long pos, int len) throws IOException;
  }

  /** Most bytes the decoded tensors of one file may take: half the maximum heap. */
  static long decodeBudget() {
    return Runtime.getRuntime().maxMemory() / 2;
  }

  /** Reads every tensor of a safetensors file, keys in sorted order. */
  public static LinkedHashMap<String, Tensor> read(Path file) {
    return read(file, SafeFiles.Policy.USER);
  }

  /**
   * As {@link #read(Path)}, with the file checks of {@code policy} (MODEL for a file a program
   * names).
   */
  public static LinkedHashMap<String, Tensor> read(Path file, SafeFiles.Policy policy) {
    try (FileChannel ch = SafeFiles.open(file, policy, Long.MAX_VALUE)) {
      return readAll(channelSource(ch), file.toString());
    } catch (IOException e) {
      throw new TensorFileException("cannot read " + file + ": " + SafeFiles.describe(e), e);
    }
  }

  /** Parses the bytes of a safetensors file; {@code name} is used in error messages. */
  public static LinkedHashMap<String, Tensor> read(byte[] data, String name) {
    try {
      return readAll(arraySource(data), name);
    } catch (IOException e) {
      throw new TensorFileException(name + ": " + e, e);
    }
  }

  /** The {@code __metadata__} of a safetensors file (empty when it has none), sorted by key. */
  public static Map<String, String> readMetadata(Path file) {
    try (FileChannel ch = SafeFiles.open(file, SafeFiles.Policy.USER, Long.MAX_VALUE)) {
      return new TreeMap<>(header(channelSource(ch), file.toString()).metadata());
    } catch (IOException e) {
      throw new TensorFileException("cannot read " + file + ": " + SafeFiles.describe(e), e);
    }
  }

  private static Source channelSource(FileChannel ch) throws IOException {
    long size = ch.size();
    return new Source() {
      @Override
      public long size() {
        return size;
      }

      @Override
      public ByteBuffer read(long pos, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        while (b.hasRemaining()) {
          int n = ch.read(b, pos + b.position());
          if (n < 0) {
            throw new IOException("unexpected end of file");
          }
        }
        return b.flip().order(ByteOrder.LITTLE_ENDIAN);
      }
    };
  }

  private static Source arraySource(byte[] data) {
    return new Source() {
      @Override
      public long size() {
        return data.length;
      }

      @Override
      public ByteBuffer read(long pos, int len) {
        return ByteBuffer.wrap(data, (int) pos, len).slice().order(ByteOrder.LITTLE_ENDIAN);
      }
    };
  }

  private static LinkedHashMap<String, Tensor> readAll(Source src, String name) throws IOException {
    Header h = header(src, name);
    // decoded tensors take 4 or 8 bytes per element whatever the stored width: check the total
    // against the heap before decoding (a sparse file can claim any size)
    long decoded = 0;
    for (Entry e : h.entries().values()) {
      long stored = e.end() - e.begin();
      decoded += stored > Long.MAX_VALUE / 8 ? Long.MAX_VALUE / 8 : stored * 4;
      if (decoded < 0 || decoded > decodeBudget()) {
        throw new TensorFileException(
            name
                + ": its tensors would take more than "
                + decodeBudget()
                + " bytes in memory, more than cmod reads with this heap (raise it with CMOD_JAVA_OPTS=-Xmx...)");
      }
    }
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    for (Entry e : h.entries().values()) {
      ByteBuffer b = src.read(h.dataStart() + e.begin(), (int) (e.end() - e.begin()));
      out.put(e.name(), decode(e, b));
    }
    return out;
  }

  private static Header header(Source src, String name) throws IOException {
    long size = src.size();
    if (size < 8) {
      throw new TensorFileException(name + ": not a safetensors file (only " + size + " bytes)");
    }
    long n = src.read(0, 8).getLong(0);
    if (n < 0 || n > MAX_HEADER_BYTES) {
      throw new TensorFileException(
          name
              + ": header length "
              + Long.toUnsignedString(n)
              + " is larger than the limit of "
              + MAX_HEADER_BYTES
              + " bytes (not a safetensors file?)");
    }
    if (n > size - 8) {
      throw new TensorFileException(
          name + ": header length " + n + " runs past the end of the file (" + size + " bytes)");
    }
    ByteBuffer hb = src.read(8, (int) n);
    String json;
    try {
      CharBuffer cb =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(hb);
      json = cb.toString();
    } catch (CharacterCodingException e) {
      throw new TensorFileException(name + ": header is not valid UTF-8");
    }
    long dataLen = size - 8 - n;
    TreeMap<String, Entry> entries = new TreeMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    try {
      parseHeader(json, name, dataLen, entries, metadata);
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw new TensorFileException(name + ": header is not valid JSON: " + e.getMessage());
    }
    // entries must not overlap (the format says so; overlapping entries would let a small file
    // decode to huge tensors)
    java.util.List<Entry> byBegin = new java.util.ArrayList<>(entries.values());
    byBegin.sort(java.util.Comparator.comparingLong(Entry::begin));
    for (int i = 1; i < byBegin.size(); i++) {
      Entry prev = byBegin.get(i - 1);
      Entry cur = byBegin.get(i);
      if (cur.begin() < prev.end() && cur.end() > cur.begin()) {
        throw new TensorFileException(
            name
                + ": entries '"
                + prev.name()
                + "' and '"
                + cur.name()
                + "' overlap (data_offsets ["
                + prev.begin()
                + ", "
                + prev.end()
                + "] and ["
                + cur.begin()
                + ", "
                + cur.end()
                + "])");
      }
    }
    return new Header(8 + n, entries, metadata);
  }

  private static void parseHeader(
      String json,
      String name,
      long dataLen,
      TreeMap<String, Entry> entries,
      Map<String, String> metadata)
      throws IOException {
    JsonReader r = new JsonReader(new StringReader(json));
    r.setStrictness(Strictness.STRICT);
    if (r.peek() != JsonToken.BEGIN_OBJECT) {
      throw new TensorFileException(name + ": header is not a JSON object");
    }
    r.beginObject();
    Set<String> seen = new HashSet<>();
    while (r.hasNext()) {
      String key = r.nextName();
      if (!seen.add(key)) {
        throw new TensorFileException(name + ": header names '" + key + "' twice");
      }
      if (key.equals(METADATA)) {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
          throw new TensorFileException(name + ": __metadata__ must be an object of strings");
        }
        r.beginObject();
        while (r.hasNext()) {
          String k = r.nextName();
          if (r.peek() != JsonToken.STRING) {
            throw new TensorFileException(
                name + ": __metadata__ value of '" + k + "' is not a string");
          }
          metadata.put(k, r.nextString());
        }
        r.endObject();
      } else {
        entries.put(key, entry(r, name, key, dataLen));
      }
    }
    r.endObject();
    if (r.peek() != JsonToken.END_DOCUMENT) {
      throw new TensorFileException(name + ": unexpected text after the header object");
    }
  }

  private static Entry entry(JsonReader r, String file, String key, long dataLen)
      throws IOException {
    String where = file + ": tensor '" + key + "'";
    if (r.peek() != JsonToken.BEGIN_OBJECT) {
      throw new TensorFileException(where + ": entry is not an object");
    }
    String dtypeText = null;
    long[] shape = null;
    long[] offsets = null;
    r.beginObject();
    while (r.hasNext()) {
      String f = r.nextName();
      switch (f) {
        case "dtype" -> {
          if (r.peek() != JsonToken.STRING) {
            throw new TensorFileException(where + ": dtype is not a string");
          }
          dtypeText = r.nextString();
        }
        case "shape" -> shape = longs(r, where, "shape");
        case "data_offsets" -> offsets = longs(r, where, "data_offsets");
        default -> r.skipValue();
      }
    }
    r.endObject();
    if (dtypeText == null || shape == null || offsets == null) {
      throw new TensorFileException(where + ": entry needs dtype, shape and data_offsets");
    }
    DType dtype = dtypeOf(dtypeText);
    if (dtype == null) {
      throw new TensorFileException(
          where
              + ": unsupported dtype "
              + dtypeText
              + " (supported: F32 F16 BF16 F64 I64 I32 BOOL)");
    }
    boolean empty = false;
    for (long d : shape) {
      empty |= d == 0;
    }
    long numel = empty ? 0 : 1;
    for (long d : shape) {
      if (!empty) {
        if (numel > MAX_ELEMENTS / d) {
          throw new TensorFileException(
              where + ": shape " + Arrays.toString(shape) + " has too many elements");
        }
        numel *= d;
      }
    }
    if (offsets.length != 2) {
      throw new TensorFileException(
          where + ": data_offsets needs two numbers, got " + offsets.length);
    }
    long begin = offsets[0];
    long end = offsets[1];
    if (begin > end || end > dataLen) {
      throw new TensorFileException(
          where
              + ": data_offsets ["
              + begin
              + ", "
              + end
              + "] are outside the data section of "
              + dataLen
              + " bytes");
    }
    long bytes = numel * dtype.byteSize;
    if (end - begin != bytes) {
      throw new TensorFileException(
          where
              + ": "
              + dtypeText
              + Arrays.toString(shape)
              + " needs "
              + bytes
              + " bytes but data_offsets ["
              + begin
              + ", "
              + end
              + "] span "
              + (end - begin));
    }
    if (bytes > MAX_ELEMENTS) {
      throw new TensorFileException(
          where + ": " + bytes + " bytes is too large for one tensor (at most 2 GiB)");
    }
    return new Entry(key, dtype, shape, (int) numel, begin, end);
  }

  private static long[] longs(JsonReader r, String where, String field) throws IOException {
    if (r.peek() != JsonToken.BEGIN_ARRAY) {
      throw new TensorFileException(where + ": " + field + " is not an array");
    }
    long[] out = new long[4];
    int n = 0;
    r.beginArray();
    while (r.hasNext()) {
      if (r.peek() != JsonToken.NUMBER) {
        throw new TensorFileException(where + ": " + field + " holds a non-number");
      }
      String s = r.nextString();
      if (s.startsWith("-")) {
        throw new TensorFileException(where + ": " + field + " holds a negative number " + s);
      }
      if (!s.matches("[0-9]{1,18}")) {
        throw new TensorFileException(
            where
                + ": "
                + field
                + " holds "
                + s
                + ", not a non-negative integer"
                + " of at most 18 digits");
      }
      if (n == out.length) {
        if (n >= 64) {
          throw new TensorFileException(where + ": " + field + " has too many entries");
        }
        out = Arrays.copyOf(out, 2 * n);
      }
      out[n++] = Long.parseLong(s);
    }
    r.endArray();
    return Arrays.copyOf(out, n);
  }

  private static DType dtypeOf(String s) {
    return switch (s) {
      case "F32" -> DType.F32;
      case "F16" -> DType.F16;
      case "BF16" -> DType.BF16;
      case "F64" -> DType.F64;
      case "I64" -> DType.I64;
      case "I32" -> DType.I32;
      case "I16" -> DType.I16;
      case "I8" -> DType.I8;
      case "U64" -> DType.U64;
      case "U32" -> DType.U32;
      case "U16" -> DType.U16;
      case "U8" -> DType.U8;
      case "BOOL" -> DType.BOOL;
      default -> null;
    };
  }

  private static String dtypeText(DType d) {
    return d == DType.BOOL ? "BOOL" : d.name();
  }

  private static Tensor decode(Entry e, ByteBuffer b) {
    int n = e.numel();
    DType dt = e.dtype();
    if (dt.isFloat()) {
      float[] f = new float[n];
      for (int i = 0; i < n; i++) {
        f[i] =
            switch (dt) {
              case F32 -> b.getFloat(4 * i);
              case F16 -> HalfFloats.halfToFloat(b.getShort(2 * i));
              case BF16 -> HalfFloats.bf16ToFloat(b.getShort(2 * i));
              default -> (float) b.getDouble(8 * i);
            };
      }
      return Tensor.ofFloats(dt, e.shape(), f);
    }
    long[] l = new long[n];
    for (int i = 0; i < n; i++) {
      l[i] =
          switch (dt) {
            case I64, U64 -> b.getLong(8 * i);
            case I32, U32 -> dt.wrap(b.getInt(4 * i));
            case I16, U16 -> dt.wrap(b.getShort(2 * i));
            default -> dt.wrap(b.get(i));
          };
    }
    return Tensor.ofLongs(dt, e.shape(), l);
  }

  /**
   * Writes {@code tensors} (keys in sorted order) and optional string {@code metadata} as a
   * safetensors file, through a temporary file and an atomic move.
   */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
    AtomicFiles.write(file, toBytes(tensors, metadata));
  }

  /** The bytes of a safetensors file; the same input always gives the same bytes. */
  public static byte[] toBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
    TreeMap<String, Tensor> sorted = new TreeMap<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      if (e.getKey() == null || e.getValue() == null) {
        throw new TensorFileException("safetensors: null tensor name or value");
      }
      if (e.getKey().equals(METADATA)) {
        throw new TensorFileException(
            "safetensors: '" + METADATA + "' is reserved and cannot name a tensor");
      }
      sorted.put(e.getKey(), e.getValue());
    }
    StringBuilder json = new StringBuilder("{");
    if (metadata != null && !metadata.isEmpty()) {
      json.append(GSON.toJson(METADATA)).append(":{");
      boolean first = true;
      for (Map.Entry<String, String> m : new TreeMap<>(metadata).entrySet()) {
        json.append(first ? "" : ",")
            .append(GSON.toJson(m.getKey()))
            .append(':')
            .append(GSON.toJson(m.getValue()));
        first = false;
      }
      json.append('}');
    }
    long offset = 0;
    for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
      Tensor t = e.getValue();
      long bytes = (long) t.size() * t.dtype().byteSize;
      if (json.length() > 1) {
        json.append(',');
      }
      json.append(GSON.toJson(e.getKey()))
          .append(":{\"dtype\":\"")
          .append(dtypeText(t.dtype()))
          .append("\",\"shape\":[");
      long[] shape = t.shape();
      for (int i = 0; i < shape.length; i++) {
        json.append(i > 0 ? "," : "").append(shape[i]);
      }
      json.append("],\"data_offsets\":[")
          .append(offset)
          .append(',')
          .append(offset + bytes)
          .append("]}");
      offset += bytes;
    }
    json.append('}');
    byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (header.length + 7) / 8 * 8;
    long total = 8L + padded + offset;
    if (total > Integer.MAX_VALUE - 8) {
      throw new TensorFileException(
          "safetensors: " + total + " bytes is too large to build in memory");
    }
    ByteBuffer b = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded).put(header);
    for (int i = header.length; i < padded; i++) {
      b.put((byte) ' ');
    }
    for (Tensor t : sorted.values()) {
      int n = t.size();
      switch (t.dtype()) {
        case F32 -> {
          for (int i = 0; i < n; i++) {
            b.putFloat(t.floats()[i]);
          }
        }
        case F16 -> {
          for (int i = 0; i < n; i++) {
            b.putShort(HalfFloats.floatToHalf(t.floats()[i]));
          }
        }
        case BF16 -> {
          for (int i = 0; i < n; i++) {
            b.putShort(HalfFloats.floatToBf16(t.floats()[i]));
          }
        }
        case F64 -> {
          for (int i = 0; i < n; i++) {
            b.putDouble(t.floats()[i]);
          }
        }
        case I64 -> {
          for (int i = 0; i < n; i++) {
            b.putLong(t.longs()[i]);
          }
        }
        case I32, U32 -> {
          for (int i = 0; i < n; i++) {
            b.putInt((int) t.longs()[i]);
          }
        }
        case U64 -> {
          for (int i = 0; i < n; i++) {
            b.putLong(t.longs()[i]);
          }
        }
        case I16, U16 -> {
          for (int i = 0; i < n; i++) {
            b.putShort((short) t.longs()[i]);
          }
        }
        case I8, U8 -> {
          for (int i = 0; i < n; i++) {
            b.put((byte) t.longs()[i]);
          }
        }
        case BOOL -> {
          for (int i = 0; i < n; i++) {
            b.put((byte) (t.longs()[i] != 0 ? 1 : 0));
          }
        }
      }
    }
    return b.array();
  }
}
