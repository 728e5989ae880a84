package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.ExprDim;
import dev.cmod.compiler.ast.Ast.IntLit;
import dev.cmod.compiler.ast.Ast.NameRef;
import dev.cmod.compiler.ast.Ast.OnnxSignature;
import dev.cmod.compiler.ast.Ast.SigItem;
import dev.cmod.compiler.ast.Ast.TensorTypeExpr;
import dev.cmod.compiler.ast.Ast.UnknownDim;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * The signature written with {@code import onnx} as the importer takes it. Its types describe the
 * ONNX values as the file would: an element type and dims exactly as written (no implicit batch),
 * each dim a size, a name (a symbol the import's inputs bind, e.g. {@code b} or {@code seq}) or
 * {@code _} (unknown). They are read before any model is elaborated, so they name no consts.
 */
final class ImportSignatureTypes {
  private ImportSignatureTypes() {}

  /** The signature, or null after reporting why a type cannot be read. */
  static ImportedModule.Signature of(OnnxSignature sig, Diagnostics diags) {
    List<ImportedModule.Item> ins = sig.inputs() == null ? null : items(sig.inputs(), diags);
    List<ImportedModule.Item> outs = sig.outputs() == null ? null : items(sig.outputs(), diags);
    if ((sig.inputs() != null && ins == null) || (sig.outputs() != null && outs == null)) {
      return null;
    }
    return new ImportedModule.Signature(ins, outs);
  }

  private static List<ImportedModule.Item> items(List<SigItem> items, Diagnostics diags) {
    List<ImportedModule.Item> out = new ArrayList<>();
    boolean ok = true;
    for (SigItem it : items) {
      TensorType t = null;
      if (it.type() != null) {
        t = type(it, diags);
        ok &= t != null;
      }
      out.add(new ImportedModule.Item(it.name(), t));
    }
    return ok ? out : null;
  }

  private static TensorType type(SigItem it, Diagnostics diags) {
    DType dt = it.type() instanceof TensorTypeExpr t ? DType.fromText(t.head().text()) : null;
    if (dt == null || ((TensorTypeExpr) it.type()).vocab() != null) {
      diags.error(
          DiagnosticCode.BAD_TYPE,
          it.type().span(),
          "a type in an import's signature is an element type with dims, as in the ONNX file",
          "e.g. \"" + it.name() + "\": f32[b, 3, 224, 224]");
      return null;
    }
    List<Dim> dims = new ArrayList<>();
    for (var d : ((TensorTypeExpr) it.type()).dims()) {
      if (d instanceof UnknownDim) {
        dims.add(Dim.UNKNOWN);
      } else if (d instanceof ExprDim e && e.expr() instanceof IntLit n && n.value() >= 0) {
        dims.add(Dim.of(n.value()));
      } else if (d instanceof ExprDim e && e.expr() instanceof NameRef n) {
        dims.add(Dim.sym(n.name()));
      } else {
        diags.error(
            DiagnosticCode.BAD_TYPE,
            d.span(),
            "a dim in an import's signature is a size, a name or _",
            "name a size the model's inputs give (b, seq) rather than computing it");
        return null;
      }
    }
    return new TensorType(dt, dims);
  }
}
