package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.OnnxRunner;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks user-given inputs against a model's declared inputs before ONNX Runtime sees them: names,
 * dtype (kept as the file holds it: a mismatch is an error, never a conversion), rank, fixed dims,
 * and one size per symbolic dim across all inputs.
 */
final class InputCheck {
  private InputCheck() {}

  /**
   * One declared input: its dtype (null when cmod cannot feed it), display of its type, and dims (a
   * fixed size or a symbol).
   */
  record Declared(String name, DType dtype, String typeText, long[] fixed, String[] symbols) {}

  static void check(Graph g, Map<String, Tensor> feed) {
    List<Declared> decl = new ArrayList<>();
    for (Node in : g.inputs()) {
      TensorType ty = in.type();
      long[] fixed = new long[ty.rank()];
      String[] sym = new String[ty.rank()];
      for (int i = 0; i < ty.rank(); i++) {
        Dim d = ty.dim(i);
        fixed[i] = d.isKnown() ? d.value() : -1;
        sym[i] =
            d.symbols().size() == 1 && d.toString().equals(d.symbols().iterator().next())
                ? d.toString()
                : null;
      }
      decl.add(new Declared(in.attrs().getString("name"), ty.dtype(), ty.toString(), fixed, sym));
    }
    check(decl, feed, true);
  }

  static void check(Map<String, ai.onnxruntime.TensorInfo> info, Map<String, Tensor> feed) {
    List<Declared> decl = new ArrayList<>();
    for (Map.Entry<String, ai.onnxruntime.TensorInfo> e : info.entrySet()) {
      ai.onnxruntime.TensorInfo ti = e.getValue();
      long[] shape = ti.getShape();
      String[] names = ti.getDimensionNames();
      String[] sym = new String[shape.length];
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < shape.length; i++) {
        sym[i] =
            shape[i] < 0 && names != null && i < names.length && !names[i].isEmpty()
                ? names[i]
                : null;
        text.append(i > 0 ? ", " : "")
            .append(shape[i] >= 0 ? Long.toString(shape[i]) : sym[i] != null ? sym[i] : "?");
      }
      // the ONNX element type, not the Java type (which reads u16/u32/u64 as int16/32/64)
      DType dt = OnnxRunner.dtype(ti);
      String dtName = dt != null ? dt.toString() : ti.type.toString().toLowerCase(Locale.ROOT);
      decl.add(new Declared(e.getKey(), dt, dtName + "[" + text + "]", shape, sym));
    }
    check(decl, feed, false);
  }

  private static void check(List<Declared> decl, Map<String, Tensor> feed, boolean compiled) {
    Map<String, Long> bound = new LinkedHashMap<>();
    Map<String, String> from = new LinkedHashMap<>();
    List<String> names = new ArrayList<>();
    for (Declared d : decl) {
      names.add(d.name());
    }
    for (String k : feed.keySet()) {
      if (!names.contains(k)) {
        throw new UserError(
            DiagnosticCode.INPUT_MISMATCH,
            "the model has no input '"
                + Excerpt.of(k, 100)
                + "'; its inputs are "
                + Excerpt.of(names.toString(), 500));
      }
    }
    for (Declared d : decl) {
      String name = d.name();
      Tensor t = feed.get(name);
      if (t == null) {
        throw new UserError(
            DiagnosticCode.INPUT_MISMATCH,
            "input '"
                + name
                + "' ("
                + d.typeText()
                + ") is missing; pass --input "
                + name
                + "=FILE.npy");
      }
      String holds = t.dtype() + java.util.Arrays.toString(t.shape());
      if (d.dtype() == null) {
        throw new UserError(
            DiagnosticCode.INPUT_MISMATCH,
            "input '"
                + name
                + "' is "
                + d.typeText()
                + ", an element type cmod run cannot pass yet; the file holds "
                + holds);
      }
      // .npy has no bfloat16: a float32 file feeds a bf16 input
      boolean bf16FromF32 = d.dtype() == DType.BF16 && t.dtype() == DType.F32;
      if (t.dtype() != d.dtype() && !bf16FromF32) {
        throw new UserError(
            DiagnosticCode.INPUT_MISMATCH,
            "input '"
                + name
                + "' must be "
                + d.dtype()
                + " ("
                + d.typeText()
                + "), the file holds "
                + t.dtype()
                + " ("
                + holds
                + "); cmod does not convert element types: save the array as "
                + npyName(d.dtype()));
      }
      if (t.rank() != d.fixed().length) {
        throw new UserError(
            DiagnosticCode.INPUT_MISMATCH,
            "input '"
                + name
                + "' must have rank "
                + d.fixed().length
                + " ("
                + d.typeText()
                + "), the file holds "
                + holds);
      }
      for (int i = 0; i < d.fixed().length; i++) {
        long have = t.dim(i);
        String sym = d.symbols()[i];
        if (d.fixed()[i] >= 0 && d.fixed()[i] != have) {
          throw new UserError(
              DiagnosticCode.INPUT_MISMATCH,
              "input '"
                  + name
                  + "' must have shape "
                  + d.typeText()
                  + ": axis "
                  + i
                  + " is "
                  + have
                  + ", expected "
                  + d.fixed()[i]
                  + " (the file holds "
                  + holds
                  + ")");
        } else if (sym != null) {
          Long prev = bound.putIfAbsent(sym, have);
          if (prev != null && prev != have) {
            throw new UserError(
                DiagnosticCode.INPUT_MISMATCH,
                "input '"
                    + name
                    + "' axis "
                    + i
                    + " is "
                    + have
                    + " but "
                    + sym
                    + " is "
                    + prev
                    + " (from "
                    + from.get(sym)
                    + "); one symbolic dim takes one size");
          }
          from.putIfAbsent(sym, "input '" + name + "' axis " + i);
        }
      }
      if (bf16FromF32) {
        feed.put(name, Tensor.ofFloats(DType.BF16, t.shape(), t.floats()));
      }
    }
  }

  private static String npyName(DType d) {
    return switch (d) {
      case F32, BF16 -> "float32";
      case F64 -> "float64";
      case F16 -> "float16";
      case I64 -> "int64";
      case I32 -> "int32";
      case I16 -> "int16";
      case I8 -> "int8";
      case U64 -> "uint64";
      case U32 -> "uint32";
      case U16 -> "uint16";
      case U8 -> "uint8";
      case BOOL -> "bool";
    };
  }
}
