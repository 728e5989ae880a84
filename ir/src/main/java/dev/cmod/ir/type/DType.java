package dev.cmod.ir.type;

/**
 * Element types: every ONNX numeric type a model's inputs, outputs and {@code .npy} files carry.
 * {@code onnxCode} is the ONNX TensorProto.DataType number. Integer and boolean values are held as
 * longs in {@link dev.cmod.ir.tensor.Tensor}; a u64 value of 2^63 or more is held as the long with
 * the same 64 bits.
 */
public enum DType {
  F32("f32", 1, 4),
  F16("f16", 10, 2),
  BF16("bf16", 16, 2),
  F64("f64", 11, 8),
  I64("i64", 7, 8),
  I32("i32", 6, 4),
  BOOL("bool", 9, 1),
  U8("u8", 2, 1),
  I8("i8", 3, 1),
  U16("u16", 4, 2),
  I16("i16", 5, 2),
  U32("u32", 12, 4),
  U64("u64", 13, 8);

  public final String text;
  public final int onnxCode;
  public final int byteSize;

  DType(String text, int onnxCode, int byteSize) {
    this.text = text;
    this.onnxCode = onnxCode;
    this.byteSize = byteSize;
  }

  public boolean isFloat() {
    return this == F32 || this == F16 || this == BF16 || this == F64;
  }

  /** i64 or i32: the integer types of indices, dims and shapes. */
  public boolean isInteger() {
    return this == I64 || this == I32;
  }

  /** Every integer type, signed or not (not bool). */
  public boolean isIntegral() {
    return this != BOOL && !isFloat();
  }

  public boolean isUnsigned() {
    return this == U8 || this == U16 || this == U32 || this == U64;
  }

  /**
   * {@code v} as this integer type keeps it: its low {@code 8 * byteSize} bits, sign-extended for
   * the signed types (the two's-complement wrap of a C cast, which ONNX's Cast follows); 0 or 1 for
   * bool.
   */
  public long wrap(long v) {
    if (this == BOOL) {
      return v != 0 ? 1 : 0;
    }
    int bits = 8 * byteSize;
    if (bits == 64) {
      return v;
    }
    long low = v & ((1L << bits) - 1);
    return isUnsigned() || (low >>> (bits - 1)) == 0 ? low : low - (1L << bits);
  }

  /** The ONNX element type with this TensorProto.DataType number, or null. */
  public static DType fromOnnx(int code) {
    for (DType d : values()) {
      if (d.onnxCode == code) {
        return d;
      }
    }
    return null;
  }

  public static DType fromText(String s) {
    for (DType d : values()) {
      if (d.text.equals(s)) {
        return d;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return text;
  }
}
