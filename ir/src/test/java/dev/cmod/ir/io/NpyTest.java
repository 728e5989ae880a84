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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
  /** A .npy file by hand: magic, version, header length, header text, data. */
  static byte[] npy(int major, String header, byte[] data) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    int lenBytes = major == 1 ? 2 : 4;
    ByteBuffer b =
        ByteBuffer.allocate(8 + lenBytes + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    if (major == 1) {
      b.putShort((short) h.length);
    } else {
      b.putInt(h.length);
    }
    return b.put(h).put(data).array();
  }

  static byte[] le(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
  }

  @Test
  void roundTrips() {
    Tensor f = Tensor.ofFloats(new long[] {2, 3}, new float[] {1, -2, 3.5f, Float.NaN, 0, 1e-30f});
    Tensor back = Npy.read(Npy.toBytes(f), "f");
    assertEquals(DType.F32, back.dtype());
    assertArrayEquals(f.shape(), back.shape());
    assertArrayEquals(f.floats(), back.floats());
    Tensor l = Tensor.ofLongs(new long[] {4}, new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE});
    assertArrayEquals(l.longs(), Npy.read(Npy.toBytes(l), "l").longs());
    Tensor b = Tensor.ofLongs(DType.BOOL, new long[] {1, 3}, new long[] {1, 0, 1});
    Tensor bb = Npy.read(Npy.toBytes(b), "b");
    assertEquals(DType.BOOL, bb.dtype());
    assertArrayEquals(new long[] {1, 3}, bb.shape());
    assertArrayEquals(b.longs(), bb.longs());
    Tensor scalar = Npy.read(Npy.toBytes(Tensor.scalar(7)), "s");
    assertEquals(0, scalar.rank());
    assertEquals(7f, scalar.floats()[0]);
    Tensor empty = Npy.read(Npy.toBytes(Tensor.zeros(DType.F32, new long[] {0, 3})), "e");
    assertArrayEquals(new long[] {0, 3}, empty.shape());
  }

  @Test
  void headerIsNumpyStyle() {
    byte[] bytes = Npy.toBytes(Tensor.ofFloats(new long[] {3}, new float[] {1, 2, 3}));
    assertEquals(1, bytes[6]);
    assertEquals(0, bytes[7]);
    int hlen = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
    assertEquals(0, (10 + hlen) % 64);
    String header = new String(bytes, 10, hlen, StandardCharsets.ISO_8859_1);
    assertTrue(
        header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), header);
    assertTrue(header.endsWith("\n"));
    assertEquals(10 + hlen + 12, bytes.length);
  }

  @Test
  void readsOtherVersionsAndDtypes() {
    Tensor v2 =
        Npy.read(
            npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n", le(1, 2)), "v2");
    assertArrayEquals(new float[] {1, 2}, v2.floats());
    Tensor v3 =
        Npy.read(
            npy(3, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1, 1), }", le(5)),
            "v3");
    assertArrayEquals(new long[] {1, 1}, v3.shape());
    // f64 keeps its type and its exact values (0.1 is not a float)
    ByteBuffer d =
        ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-3);
    Tensor f8 =
        Npy.read(
            npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d.array()), "f8");
    assertEquals(DType.F64, f8.dtype());
    assertArrayEquals(new double[] {0.1, -3}, f8.doubles());
    assertArrayEquals(new float[] {0.1f, -3}, f8.floats());
    byte[] back = Npy.toBytes(f8);
    assertArrayEquals(
        d.array(),
        Arrays.copyOfRange(back, back.length - 16, back.length),
        "f64 written back bit for bit");
    ByteBuffer h =
        ByteBuffer.allocate(4)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putShort((short) 0x3c00)
            .putShort((short) 0xc000);
    assertArrayEquals(
        new float[] {1, -2},
        Npy.read(
                npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", h.array()),
                "f2")
            .floats());
    ByteBuffer i4 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(-5).putInt(7);
    Tensor ti =
        Npy.read(
            npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", i4.array()), "i4");
    assertEquals(DType.I32, ti.dtype(), "i32 is not widened");
    assertArrayEquals(new long[] {-5, 7}, ti.longs());
    Tensor u1 =
        Npy.read(
            npy(
                1,
                "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }",
                new byte[] {(byte) 200, 3}),
            "u1");
    assertEquals(DType.U8, u1.dtype());
    assertArrayEquals(new long[] {200, 3}, u1.longs());
  }

  /**
   * Every integer dtype, by hand-made bytes: read with its type and values, written bit for bit.
   */
  @Test
  void integerDtypesReadAndWriteExactly() {
    Object[][] cases = {
      {"|u1", DType.U8, new byte[] {(byte) 0xff, 1}, new long[] {255, 1}},
      {"|i1", DType.I8, new byte[] {(byte) 0xff, 1}, new long[] {-1, 1}},
      {"<u2", DType.U16, new byte[] {(byte) 0xfe, (byte) 0xff, 2, 1}, new long[] {65534, 258}},
      {"<i2", DType.I16, new byte[] {(byte) 0xfe, (byte) 0xff, 2, 1}, new long[] {-2, 258}},
      {
        "<u4",
        DType.U32,
        new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 0, 0, 0},
        new long[] {4294967295L, 1}
      },
      {
        "<u8",
        DType.U64,
        new byte[] {
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          5,
          0,
          0,
          0,
          0,
          0,
          0,
          0
        },
        new long[] {-1, 5}
      },
    };
    for (Object[] c : cases) {
      String descr = (String) c[0];
      byte[] data = (byte[]) c[2];
      String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (2,), }";
      Tensor t = Npy.read(npy(1, header, data), descr);
      assertEquals(c[1], t.dtype(), descr);
      assertArrayEquals((long[]) c[3], t.longs(), descr);
      byte[] back = Npy.toBytes(t);
      assertArrayEquals(
          data, Arrays.copyOfRange(back, back.length - data.length, back.length), descr);
      String written = new String(back, 10, back.length - 10 - data.length, StandardCharsets.UTF_8);
      assertTrue(written.contains("'descr': '" + descr + "'"), written);
    }
    // NumPy may write single bytes with '<' too
    Tensor lt =
        Npy.read(
            npy(1, "{'descr': '<u1', 'fortran_order': False, 'shape': (1,), }", new byte[] {7}),
            "<u1");
    assertEquals(DType.U8, lt.dtype());
  }

  private static void rejects(byte[] data, String expectInMessage) {
    TensorFileException e =
        assertThrows(TensorFileException.class, () -> Npy.read(data, "bad.npy"));
    assertTrue(e.getMessage().startsWith("bad.npy: "), e.getMessage());
    assertTrue(e.getMessage().contains(expectInMessage), e.getMessage());
  }

  @Test
  void rejectsBrokenFiles() {
    String ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    rejects(new byte[] {1, 2, 3}, "not a .npy file");
    rejects("GARBAGE GARBAGE GARBAGE".getBytes(StandardCharsets.US_ASCII), "bad magic");
    byte[] good = npy(1, ok, le(1, 2));
    rejects(Arrays.copyOf(good, good.length - 3), "truncated");
    rejects(Arrays.copyOf(good, 30), "runs past the end");
    rejects(npy(1, ok, le(1, 2, 3)), "unexpected bytes after the data");
    rejects(
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", le(1)),
        "too many elements");
    rejects(
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }", le(1)),
        "too many elements");
    rejects(
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }", le(1)),
        "needs 4000000 bytes");
    rejects(
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", le(1)),
        "negative dimension");
    rejects(
        npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", le(1, 2)),
        "Fortran-order");
    rejects(
        npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", le(1, 2)),
        "big-endian");
    rejects(
        npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", le(1, 2)),
        "unsupported dtype");
    rejects(
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", le(1, 2)), "malformed");
    rejects(
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", le(1, 2)),
        "malformed");
    rejects(
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", le(1, 2)),
        "malformed");
    rejects(
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 'x'}", le(1, 2)),
        "unexpected key");
    rejects(npy(1, "{'descr': '<f4', 'shape': (2,), }", le(1, 2)), "fortran_order");
    rejects(
        npy(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", le(1, 2)),
        "duplicate");
    byte[] v9 = npy(1, ok, le(1, 2));
    v9[6] = 9;
    rejects(v9, "unsupported .npy format version 9.0");
    byte[] lying = npy(2, ok, le(1, 2));
    ByteBuffer.wrap(lying).order(ByteOrder.LITTLE_ENDIAN).putInt(8, Integer.MAX_VALUE);
    rejects(lying, "runs past the end");
  }

  @Test
  void writeIsAtomicAndReadable(@TempDir Path dir) throws IOException {
    Path p = dir.resolve("t.npy");
    Tensor t = Tensor.ofFloats(new long[] {2}, new float[] {1, 2});
    Npy.write(p, t);
    Npy.write(p, Tensor.ofFloats(new long[] {3}, new float[] {4, 5, 6})); // replaces
    assertArrayEquals(new float[] {4, 5, 6}, Npy.read(p).floats());
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.count(), "no temporary files left behind");
    }
    TensorFileException e =
        assertThrows(TensorFileException.class, () -> Npy.read(dir.resolve("missing.npy")));
    assertTrue(e.getMessage().contains("missing.npy"), e.getMessage());
  }
}
