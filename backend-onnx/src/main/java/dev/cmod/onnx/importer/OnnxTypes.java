package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.type.DType;

/** ONNX element types as IR dtypes, shared by the reading of tensors and the import of Cast. */
public final class OnnxTypes {
  private OnnxTypes() {}

  /**
   * The IR dtype of ONNX element type {@code onnxType}.
   *
   * @throws ImportException naming {@code what} when cmod does not support the type
   */
  public static DType dtype(int onnxType, String what) {
    for (DType d : DType.values()) {
      if (d.onnxCode == onnxType) {
        return d;
      }
    }
    throw new ImportException(
        what
            + " has ONNX element type "
            + typeName(onnxType)
            + ", which cmod does not support (f32, f16, bf16, f64, u8, i8, u16, i16, u32, i32, u64, i64 and bool are)");
  }

  static String typeName(int t) {
    String[] names = {
      "undefined",
      "float",
      "uint8",
      "int8",
      "uint16",
      "int16",
      "int32",
      "int64",
      "string",
      "bool",
      "float16",
      "double",
      "uint32",
      "uint64",
      "complex64",
      "complex128",
      "bfloat16"
    };
    return t >= 0 && t < names.length ? names[t] : "#" + t;
  }
}
