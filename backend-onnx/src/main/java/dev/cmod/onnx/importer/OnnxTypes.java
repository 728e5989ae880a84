package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.type.DType;
import java.util.EnumSet;
import java.util.Set;

/** ONNX element types as IR dtypes, shared by the reading of tensors and the import of Cast. */
public final class OnnxTypes {
  private OnnxTypes() {}

  /**
   * The element types the importer reads. The IR has the small and unsigned integer types too (for
   * model signatures and {@code .npy} files), but the importer's operators and tensor reading do
   * not handle them yet, so a model using them is refused here rather than misread.
   */
  private static final Set<DType> IMPORTED =
      EnumSet.of(DType.F32, DType.F16, DType.BF16, DType.F64, DType.I64, DType.I32, DType.BOOL);

  /**
   * The IR dtype of ONNX element type {@code onnxType}.
   *
   * @throws ImportException naming {@code what} when cmod does not support the type
   */
  public static DType dtype(int onnxType, String what) {
    DType d = DType.fromOnnx(onnxType);
    if (d != null && IMPORTED.contains(d)) {
      return d;
    }
    throw new ImportException(
        what
            + " has ONNX element type "
            + typeName(onnxType)
            + ", which cmod does not support (f32, f16, bf16, f64, i64, i32 and bool are)");
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
