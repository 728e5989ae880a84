package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.util.List;

/**
 * An ONNX value during import. Exactly one of value, tensor, dims is the source of truth: an IR
 * value, a tensor known at import time (an initializer or a Constant, added to the graph as a
 * frozen PARAM or a CONST when an IR operand needs it), or an integer vector of IR dims (the result
 * of Shape and the arithmetic on it), which is how shape computations are folded into static
 * (possibly symbolic) reshape targets.
 */
final class ImportValue {
  Value value;
  final Tensor tensor;
  final List<Dim> dims;
  final boolean scalar;
  final DType dimsType;
  final String paramName;

  private ImportValue(
      Value value,
      Tensor tensor,
      List<Dim> dims,
      boolean scalar,
      DType dimsType,
      String paramName) {
    this.value = value;
    this.tensor = tensor;
    this.dims = dims;
    this.scalar = scalar;
    this.dimsType = dimsType;
    this.paramName = paramName;
  }

  static ImportValue of(Value v) {
    return new ImportValue(v, null, null, false, null, null);
  }

  static ImportValue tensor(Tensor t, String paramName) {
    return new ImportValue(null, t, null, false, null, paramName);
  }

  static ImportValue dims(List<Dim> d, boolean scalar, DType dt) {
    return new ImportValue(null, null, List.copyOf(d), scalar, dt, null);
  }
}
