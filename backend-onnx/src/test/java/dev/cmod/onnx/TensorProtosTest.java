package dev.cmod.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import org.junit.jupiter.api.Test;

/** 16-bit float conversions and the raw bytes of every element type. */
class TensorProtosTest {
  @Test
  void integerTypesAreLittleEndianBytesOfTheirWidth() {
    long[] v = {-1, 2};
    Object[][] cases = {
      {DType.U8, new byte[] {(byte) 0xff, 2}},
      {DType.I8, new byte[] {(byte) 0xff, 2}},
      {DType.U16, new byte[] {(byte) 0xff, (byte) 0xff, 2, 0}},
      {DType.I16, new byte[] {(byte) 0xff, (byte) 0xff, 2, 0}},
      {DType.U32, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 2, 0, 0, 0}},
    };
    for (Object[] c : cases) {
      DType dt = (DType) c[0];
      Tensor t = Tensor.ofLongs(dt, new long[] {2}, new long[] {dt.wrap(v[0]), v[1]});
      assertArrayEquals((byte[]) c[1], TensorProtos.rawBytes(t), dt.text);
      assertEquals(dt.onnxCode, TensorProtos.of("t", t).getDataType(), dt.text);
    }
    byte[] u64 = TensorProtos.rawBytes(Tensor.ofLongs(DType.U64, new long[] {1}, new long[] {-1}));
    assertArrayEquals(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1}, u64);
  }

  @Test
  void f64KeepsItsExactValues() {
    byte[] b = TensorProtos.rawBytes(Tensor.ofDoubles(new long[] {1}, new double[] {0.1}));
    assertEquals(
        Double.doubleToLongBits(0.1),
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
  }

  @Test
  void halfKnownValues() {
    assertEquals((short) 0x3c00, TensorProtos.toHalf(1f));
    assertEquals((short) 0xc000, TensorProtos.toHalf(-2f));
    assertEquals((short) 0x7bff, TensorProtos.toHalf(65504f));
    assertEquals((short) 0x7c00, TensorProtos.toHalf(1e6f));
    assertEquals((short) 0x0001, TensorProtos.toHalf(0x1p-24f));
    assertEquals((short) 0x0000, TensorProtos.toHalf(0x1p-26f));
    assertEquals((short) 0x8000, TensorProtos.toHalf(-0f));
    assertEquals((short) 0x3555, TensorProtos.toHalf(1f / 3));
    assertEquals((short) 0x3c00, TensorProtos.toHalf(1f + 0x1p-11f), "ties go to even");
    assertEquals((short) 0x3c02, TensorProtos.toHalf(1f + 3 * 0x1p-11f), "ties go to even");
    assertEquals(true, Float.isNaN(TensorProtos.fromHalf(TensorProtos.toHalf(Float.NaN))));
  }

  @Test
  void halfRoundTripsEveryHalf() {
    for (int h = 0; h < 0x10000; h++) {
      float f = TensorProtos.fromHalf((short) h);
      if (!Float.isNaN(f)) {
        assertEquals((short) h, TensorProtos.toHalf(f), "half 0x" + Integer.toHexString(h));
      }
    }
  }

  @Test
  void bfloat16() {
    assertEquals((short) 0x3f80, TensorProtos.toBfloat16(1f));
    assertEquals((short) 0x3fc0, TensorProtos.toBfloat16(1.5f));
    assertEquals((short) 0x3eab, TensorProtos.toBfloat16(1f / 3));
    assertEquals(1.5f, TensorProtos.fromBfloat16(TensorProtos.toBfloat16(1.5f)));
  }
}
