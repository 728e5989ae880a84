package dev.cmod.cli.serve;

import dev.cmod.ir.type.DType;

/** The v2 protocol's datatype names ({@code FP32}, {@code INT64}, ...) for cmod's element types. */
final class V2Types {
  private V2Types() {}

  /** The v2 name of {@code d}. */
  static String name(DType d) {
    return switch (d) {
      case F32 -> "FP32";
      case F16 -> "FP16";
      case BF16 -> "BF16";
      case F64 -> "FP64";
      case I64 -> "INT64";
      case I32 -> "INT32";
      case I16 -> "INT16";
      case I8 -> "INT8";
      case U64 -> "UINT64";
      case U32 -> "UINT32";
      case U16 -> "UINT16";
      case U8 -> "UINT8";
      case BOOL -> "BOOL";
    };
  }

  /** The element type a v2 name stands for, or null ({@code BYTES} and unknown names). */
  static DType of(String name) {
    for (DType d : DType.values()) {
      if (name(d).equals(name)) {
        return d;
      }
    }
    return null;
  }
}
