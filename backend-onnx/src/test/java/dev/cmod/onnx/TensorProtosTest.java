package dev.cmod.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** 16-bit float conversions. */
class TensorProtosTest {
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
