package dev.cmod.ir.io;

/**
 * Conversions between {@code float} and the 16-bit formats IEEE binary16 (f16) and bfloat16 (bf16),
 * with round-to-nearest-even. Written out because {@code Float.float16ToFloat} needs Java 20.
 */
public final class HalfFloats {
  private HalfFloats() {}

  /** The float value of the binary16 number with bits {@code h} (low 16 bits used). */
  public static float halfToFloat(int h) {
    int sign = (h >>> 15) & 1;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0) {
      float v = mant * 0x1.0p-24f; // zero or subnormal, exact
      return sign == 0 ? v : -v;
    }
    if (exp == 0x1f) {
      return Float.intBitsToFloat((sign << 31) | 0x7f800000 | (mant << 13));
    }
    return Float.intBitsToFloat((sign << 31) | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  /** The binary16 bits nearest to {@code f} (ties to even; overflow gives infinity). */
  public static short floatToHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;
    if (exp == 0xff) {
      return (short) (mant == 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13));
    }
    int e = exp - 127;
    if (e > 15) {
      return (short) (sign | 0x7c00);
    }
    if (e >= -14) {
      int h = ((e + 15) << 10) | (mant >>> 13);
      int rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
        h++; // may carry into the exponent, up to infinity: both correct
      }
      return (short) (sign | h);
    }
    if (exp == 0) {
      return (short) sign; // float subnormals are far below the smallest half subnormal
    }
    int m24 = mant | 0x800000;
    int s = -e - 1; // value / 2^-24 == m24 >> s
    if (s > 24) {
      return (short) sign;
    }
    int h = m24 >>> s;
    int rem = m24 & ((1 << s) - 1);
    int half = 1 << (s - 1);
    if (rem > half || (rem == half && (h & 1) != 0)) {
      h++;
    }
    return (short) (sign | h);
  }

  /** The float value of the bfloat16 number with bits {@code b} (low 16 bits used). */
  public static float bf16ToFloat(int b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }

  /** The bfloat16 bits nearest to {@code f} (ties to even). */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7fff + lsb) >>> 16);
  }

  /** {@code f} rounded to the nearest f16 value. */
  public static float roundToHalf(float f) {
    return halfToFloat(floatToHalf(f));
  }

  /** {@code f} rounded to the nearest bf16 value. */
  public static float roundToBf16(float f) {
    return bf16ToFloat(floatToBf16(f));
  }
}
