package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.DType;
import java.util.Set;

/**
 * Imports of ONNX's contractions: MatMul, Gemm (transposes, alpha and beta composed around the IR's
 * matmul), Einsum ({@link Einsum}) and the recurrent RNN, GRU and LSTM, unrolled ({@link
 * Recurrent}). ONNX's own Attention operator is newer than the opsets the importer follows.
 */
final class AttentionImports {
  private AttentionImports() {}

  static void register(ImportTable.Registrar r) {
    r.add(
        "MatMul",
        Set.of(Op.MATMUL),
        cx -> cx.out(cx.add(Op.MATMUL, cx.val(cx.need(0)), cx.val(cx.need(1)))));
    r.add("Gemm", Set.of(Op.TRANSPOSE, Op.MATMUL, Op.MUL, Op.ADD), AttentionImports::gemm);
    r.add(
        "Einsum",
        Set.of(Op.TRANSPOSE, Op.RESHAPE, Op.MATMUL, Op.MUL, Op.REDUCE_SUM, Op.WHERE),
        Einsum::apply);
    r.add("RNN", Recurrent.RAISES, Recurrent::rnn);
    r.add("GRU", Recurrent.RAISES, Recurrent::gru);
    r.add("LSTM", Recurrent.RAISES, Recurrent::lstm);
  }

  private static void gemm(ImportContext cx) {
    Value a = cx.val(cx.need(0));
    Value b = cx.val(cx.need(1));
    if (cx.attrInt("transA", 0) != 0) {
      a = cx.add(Op.TRANSPOSE, Attrs.of("perm", new long[] {1, 0}), a);
    }
    if (cx.attrInt("transB", 0) != 0) {
      b = cx.add(Op.TRANSPOSE, Attrs.of("perm", new long[] {1, 0}), b);
    }
    DType dt = a.type().dtype();
    Value y = cx.add(Op.MATMUL, a, b);
    float alpha = cx.attrFloat("alpha", 1f);
    if (alpha != 1f) {
      y = cx.add(Op.MUL, y, cx.scalar(alpha, dt));
    }
    ImportValue c = cx.in(2);
    if (c != null) {
      Value cv = cx.val(c);
      float beta = cx.attrFloat("beta", 1f);
      if (beta != 1f) {
        cv = cx.add(Op.MUL, cv, cx.scalar(beta, dt));
      }
      y = cx.add(Op.ADD, y, cv);
    }
    cx.out(y);
  }
}
