package dev.cmod.ir.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
  /** A safetensors file by hand: length, header text, data. */
  static byte[] file(String header, byte[] data) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + h.length + data.length)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putLong(h.length)
        .put(h)
        .put(data)
        .array();
  }

  static byte[] le(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
  }

  private static Map<String, Tensor> sample() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put(
        "z.f32",
        Tensor.ofFloats(new long[] {2, 2}, new float[] {1, -2, 3.25f, Float.NEGATIVE_INFINITY}));
    m.put("a.f16", Tensor.ofFloats(DType.F16, new long[] {3}, new float[] {1, -0.5f, 65504}));
    m.put("b.bf16", Tensor.ofFloats(DType.BF16, new long[] {2}, new float[] {1.5f, -256}));
    m.put("c.f64", Tensor.ofFloats(DType.F64, new long[] {1}, new float[] {0.1f}));
    m.put("d.i64", Tensor.ofLongs(new long[] {2}, new long[] {Long.MAX_VALUE, -3}));
    m.put("e.i32", Tensor.ofLongs(DType.I32, new long[] {2}, new long[] {Integer.MIN_VALUE, 7}));
    m.put("f.bool", Tensor.ofLongs(DType.BOOL, new long[] {3}, new long[] {1, 0, 1}));
    m.put("g.scalar", Tensor.scalar(9));
    m.put("h.empty", Tensor.zeros(DType.F32, new long[] {0, 4}));
    return m;
  }

  @Test
  void roundTripAllDtypesInSortedOrder() {
    Map<String, Tensor> in = sample();
    byte[] bytes = Safetensors.toBytes(in, Map.of("format", "pt", "note", "é \"quoted\""));
    long hlen = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertEquals(0, hlen % 8);
    LinkedHashMap<String, Tensor> out = Safetensors.read(bytes, "x.safetensors");
    assertEquals(
        List.of(
            "a.f16", "b.bf16", "c.f64", "d.i64", "e.i32", "f.bool", "g.scalar", "h.empty", "z.f32"),
        List.copyOf(out.keySet()));
    for (Map.Entry<String, Tensor> e : in.entrySet()) {
      Tensor want = e.getValue();
      Tensor got = out.get(e.getKey());
      assertEquals(want.dtype(), got.dtype(), e.getKey());
      assertArrayEquals(want.shape(), got.shape(), e.getKey());
      if (want.isFloat()) {
        assertArrayEquals(want.floats(), got.floats(), e.getKey());
      } else {
        assertArrayEquals(want.longs(), got.longs(), e.getKey());
      }
    }
  }

  @Test
  void smallAndUnsignedIntegersRoundTripWithTheirSafetensorsNames() {
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("a", Tensor.ofLongs(DType.U8, new long[] {2}, new long[] {255, 0}));
    in.put("b", Tensor.ofLongs(DType.I8, new long[] {2}, new long[] {-128, 127}));
    in.put("c", Tensor.ofLongs(DType.U16, new long[] {1}, new long[] {65535}));
    in.put("d", Tensor.ofLongs(DType.I16, new long[] {1}, new long[] {-32768}));
    in.put("e", Tensor.ofLongs(DType.U32, new long[] {1}, new long[] {4294967295L}));
    in.put("f", Tensor.ofLongs(DType.U64, new long[] {1}, new long[] {-1}));
    byte[] bytes = Safetensors.toBytes(in, Map.of());
    long hlen = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    String header = new String(bytes, 8, (int) hlen, java.nio.charset.StandardCharsets.UTF_8);
    for (String name : List.of("U8", "I8", "U16", "I16", "U32", "U64")) {
      assertTrue(header.contains("\"" + name + "\""), header);
    }
    // data in key order: u8 ff 00, i8 80 7f, u16 ff ff, i16 00 80, u32 ff*4, u64 ff*8
    assertEquals(2 + 2 + 2 + 2 + 4 + 8, bytes.length - 8 - hlen);
    assertEquals((byte) 0xff, bytes[(int) (8 + hlen)]);
    assertEquals((byte) 0x80, bytes[(int) (8 + hlen + 2)]);
    LinkedHashMap<String, Tensor> out = Safetensors.read(bytes, "x.safetensors");
    for (Map.Entry<String, Tensor> e : in.entrySet()) {
      assertEquals(e.getValue().dtype(), out.get(e.getKey()).dtype(), e.getKey());
      assertArrayEquals(e.getValue().longs(), out.get(e.getKey()).longs(), e.getKey());
    }
  }

  @Test
  void bytesAreDeterministic() {
    Map<String, Tensor> forward = sample();
    Map<String, Tensor> backward = new LinkedHashMap<>();
    List<String> keys = new java.util.ArrayList<>(forward.keySet());
    java.util.Collections.reverse(keys);
    keys.forEach(k -> backward.put(k, forward.get(k)));
    Map<String, String> meta1 = new LinkedHashMap<>();
    meta1.put("a", "1");
    meta1.put("b", "2");
    Map<String, String> meta2 = new LinkedHashMap<>();
    meta2.put("b", "2");
    meta2.put("a", "1");
    assertArrayEquals(Safetensors.toBytes(forward, meta1), Safetensors.toBytes(backward, meta2));
  }

  @Test
  void readsAHandWrittenFile() {
    String header =
        "{\"__metadata__\": {\"format\": \"pt\"}, \"w\": {\"dtype\": \"F32\", \"shape\": [2],"
            + " \"data_offsets\": [4, 12]}, \"b\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}   ";
    Map<String, Tensor> t = Safetensors.read(file(header, le(7, 1, 2)), "hand");
    assertEquals(List.of("b", "w"), List.copyOf(t.keySet()));
    assertArrayEquals(new float[] {7}, t.get("b").floats());
    assertArrayEquals(new float[] {1, 2}, t.get("w").floats());
  }

  private static void rejects(byte[] data, String expect) {
    TensorFileException e =
        assertThrows(TensorFileException.class, () -> Safetensors.read(data, "bad.st"));
    assertTrue(e.getMessage().startsWith("bad.st: "), e.getMessage());
    assertTrue(e.getMessage().contains(expect), e.getMessage());
  }

  private static String entry(String dtype, String shape, String offsets) {
    return "{\"w\": {\"dtype\": \""
        + dtype
        + "\", \"shape\": "
        + shape
        + ", \"data_offsets\": "
        + offsets
        + "}}";
  }

  @Test
  void rejectsLyingOrBrokenHeaders() {
    rejects(new byte[] {1, 2, 3}, "not a safetensors file");
    byte[] huge =
        ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(200L * 1024 * 1024).array();
    rejects(huge, "larger than the limit");
    byte[] neg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).array();
    rejects(neg, "larger than the limit");
    byte[] past = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100).array();
    rejects(past, "runs past the end");
    rejects(file("this is not json", new byte[0]), "not valid JSON");
    rejects(file("[1, 2]", new byte[0]), "not a JSON object");
    rejects(file("{'w': 1}", new byte[0]), "not valid JSON");
    rejects(
        file("{\"w\": {\"dtype\": \"F32\"}}", new byte[0]), "needs dtype, shape and data_offsets");
    rejects(file(entry("F32", "[2]", "[0, 8]") + " x", le(1, 2)), "");
    rejects(file(entry("C64", "[1]", "[0, 8]"), le(1, 2)), "unsupported dtype C64");
    rejects(file(entry("F32", "[-1]", "[0, 4]"), le(1)), "negative");
    rejects(file(entry("F32", "[1.5]", "[0, 4]"), le(1)), "not a non-negative integer");
    rejects(file(entry("F32", "[1000000000000]", "[0, 4]"), le(1)), "too many elements");
    rejects(file(entry("F32", "[1000000, 1000000]", "[0, 4]"), le(1)), "too many elements");
    rejects(file(entry("F32", "[2]", "[0, 8]"), le(1)), "outside the data section");
    rejects(file(entry("F32", "[2]", "[8, 4]"), le(1, 2, 3)), "outside the data section");
    rejects(file(entry("F32", "[2]", "[0, 12]"), le(1, 2, 3)), "needs 8 bytes");
    rejects(file(entry("F32", "[2]", "[0]"), le(1, 2)), "two numbers");
    rejects(
        file(entry("F32", "[2]", "[0, 99999999999999999999]"), le(1, 2)),
        "not a non-negative integer");
    rejects(
        file(
            "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                + " \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
            le(1)),
        "twice");
    rejects(file("{\"__metadata__\": {\"a\": 1}}", new byte[0]), "not a string");
    byte[] badUtf8 = file("{\"\u00e9\": 1}", new byte[0]);
    badUtf8[10] = (byte) 0xff;
    rejects(badUtf8, "UTF-8");
    byte[] good =
        Safetensors.toBytes(
            Map.of("w", Tensor.ofFloats(new long[] {4}, new float[] {1, 2, 3, 4})), null);
    rejects(Arrays.copyOf(good, good.length - 1), "outside the data section");
  }

  @Test
  void writeAndReadFiles(@TempDir Path dir) throws IOException {
    Path p = dir.resolve("m.safetensors");
    Safetensors.write(p, sample(), Map.of("k", "v"));
    assertEquals(Map.of("k", "v"), Safetensors.readMetadata(p));
    assertEquals(sample().size(), Safetensors.read(p).size());
    Safetensors.write(p, Map.of("only", Tensor.scalar(1)), null);
    assertEquals(List.of("only"), List.copyOf(Safetensors.read(p).keySet()));
    assertEquals(Map.of(), Safetensors.readMetadata(p));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.count(), "no temporary files left behind");
    }
    assertThrows(
        TensorFileException.class,
        () -> Safetensors.toBytes(Map.of("__metadata__", Tensor.scalar(1)), null));
    TensorFileException e =
        assertThrows(TensorFileException.class, () -> Safetensors.read(dir.resolve("nope")));
    assertTrue(e.getMessage().contains("nope"), e.getMessage());
  }
}
