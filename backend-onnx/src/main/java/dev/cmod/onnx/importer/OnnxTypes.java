package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.type.DType;
import java.util.EnumSet;
import java.util.Set;

/** ONNX element types as IR dtypes, shared by the reading of tensors and the import of Cast. */
public final class OnnxTypes {
  private OnnxTypes() {}

  /**
   * The element types the raised tier computes with. Tensors of the others (u8 i8 u16 i16 u32 u64)
   * are read exactly, and cross model signatures and opaque regions as they are, but a node that
   * reads or makes one is carried opaque (quantized models run on ONNX Runtime), so no IR kernel
   * ever computes with a type it was not written for.
   */
  private static final Set<DType> RAISED =
      EnumSet.of(DType.F32, DType.F16, DType.BF16, DType.F64, DType.I64, DType.I32, DType.BOOL);

  /**
   * The IR dtype of ONNX element type {@code onnxType}.
   *
   * @throws ImportException naming {@code what} when the IR has no such type (string, complex,
   *     8-bit floats...)
   */
  public static DType dtype(int onnxType, String what) {
    DType d = DType.fromOnnx(onnxType);
    if (d != null) {
      return d;
    }
    throw new ImportException(
        what
            + " has ONNX element type "
            + typeName(onnxType)
            + ", which cmod does not support (its numeric types are f32, f16, bf16, f64, i64, i32,"
            + " i16, i8, u64, u32, u16, u8 and bool)");
  }

  /** Whether the raised tier computes with {@code d} (see {@link #RAISED}). */
  static boolean raised(DType d) {
    return RAISED.contains(d);
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
