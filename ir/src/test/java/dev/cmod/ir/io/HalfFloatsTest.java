package dev.cmod.ir.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HalfFloatsTest {
  private static int half(float f) {
    return HalfFloats.floatToHalf(f) & 0xffff;
  }

  @Test
  void knownHalfValues() {
    assertEquals(0x3c00, half(1f));
    assertEquals(0xc000, half(-2f));
    assertEquals(0x7bff, half(65504f));
    assertEquals(0x0001, half(0x1.0p-24f));
    assertEquals(0x0400, half(0x1.0p-14f));
    assertEquals(0x2e66, half(0.1f));
    assertEquals(0x7c00, half(65520f)); // rounds up to infinity
    assertEquals(0x7bff, half(65519f));
    assertEquals(0x0000, half(0x1.0p-25f)); // tie between 0 and the smallest subnormal: even
    assertEquals(0x0001, half(0x1.8p-25f));
    assertEquals(0x8000, half(-0f));
    assertEquals(0xfc00, half(Float.NEGATIVE_INFINITY));
    assertTrue(Float.isNaN(HalfFloats.halfToFloat(half(Float.NaN))));
    assertEquals(1.0009765625f, HalfFloats.halfToFloat(0x3c01));
    assertEquals(0x1.0p-24f, HalfFloats.halfToFloat(0x0001));
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1)
    assertEquals(0x3c00, half(1f + 0x1.0p-11f));
    assertEquals(0x3c02, half(1f + 0x3.0p-11f));
  }

  @Test
  void everyHalfRoundTrips() {
    for (int h = 0; h < 0x10000; h++) {
      float f = HalfFloats.halfToFloat(h);
      if (Float.isNaN(f)) {
        assertTrue(((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff) != 0);
        continue;
      }
      assertEquals(h, half(f), "half bits " + Integer.toHexString(h));
    }
  }

  @Test
  void bfloat16() {
    assertEquals(0x3f80, HalfFloats.floatToBf16(1f) & 0xffff);
    assertEquals(1.5f, HalfFloats.bf16ToFloat(0x3fc0));
    assertEquals(-2f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(-2f)));
    // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even
    assertEquals(1f, HalfFloats.roundToBf16(1f + 0x1.0p-8f));
    assertEquals(1f + 0x1.0p-6f, HalfFloats.roundToBf16(1f + 0x3.0p-8f));
    assertTrue(Float.isNaN(HalfFloats.roundToBf16(Float.NaN)));
  }
}
