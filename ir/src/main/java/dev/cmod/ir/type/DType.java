package dev.cmod.ir.type;

/** Element types. {@code onnxCode} is the ONNX TensorProto.DataType number. */
public enum DType {
  F32("f32", 1, 4),
  F16("f16", 10, 2),
  BF16("bf16", 16, 2),
  F64("f64", 11, 8),
  I64("i64", 7, 8),
  I32("i32", 6, 4),
  BOOL("bool", 9, 1);

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

  public boolean isInteger() {
    return this == I64 || this == I32;
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
