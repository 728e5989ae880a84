package dev.cmod.onnx.emit;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.AttentionOps;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.Target;
import java.util.List;

/**
 * Lowerings of the contractions: matrix product and scaled dot-product attention, which opset
 * {@value dev.cmod.onnx.OnnxVersions#OPSET} has no operator for and is composed of MatMul, Softmax
 * and the masks.
 */
final class AttentionLowerings {
  private AttentionLowerings() {}

  static void register(LoweringTable.Registrar r) {
    r.put(Op.MATMUL, ElementwiseLowerings.same("MatMul"));
    r.put(Op.ATTENTION, (cx, n, in, out) -> attention(cx, n, in, out, false));
  }

  /**
   * softmax(q @ k^T / sqrt(E) [+ mask]) @ v. A bool mask (false = masked) and the causal mask (key
   * j masked for query i when j &gt; i, built at runtime from Range over the sequence lengths)
   * become Where(keep, scores, -inf); a float mask is added. With {@code fusedScores} (the {@code
   * ort} target, E known) the scaled scores are one {@code com.microsoft} FusedMatMul.
   */
  static void attention(
      LoweringContext cx, Node n, List<String> in, List<String> out, boolean fusedScores) {
    List<Value> ops = cx.ir().operands(n);
    TensorType qt = ops.get(0).type();
    TensorType kt = ops.get(1).type();
    DType dt = qt.dtype();
    int r = qt.rank();
    String q = in.get(0);
    String k = in.get(1);
    long[] perm = new long[r];
    for (int i = 0; i < r; i++) {
      perm[i] = i;
    }
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    Dim e = qt.dim(r - 1);
    String scores;
    if (fusedScores && e.isKnown()) {
      scores = cx.tmp();
      cx.node(
          Target.MICROSOFT,
          "FusedMatMul",
          List.of(q, k),
          List.of(scores),
          Attr.i("transB", 1),
          Attr.f("alpha", (float) (1 / Math.sqrt(e.value()))));
    } else {
      scores = cx.op("MatMul", q, cx.op("Transpose", List.of(k), Attr.ints("perm", perm)));
      String scale;
      if (e.isKnown()) {
        scale = cx.scalar(1 / Math.sqrt(e.value()), dt);
      } else {
        String ef = cx.op("Cast", List.of(cx.axisScalar(q, r - 1)), Attr.i("to", dt.onnxCode));
        scale = cx.op("Reciprocal", cx.op("Sqrt", ef));
      }
      scores = cx.op("Mul", scores, scale);
    }
    // f16 scores (the --precision f16 artifact) are masked and normalized in f32
    boolean half = dt == DType.F16;
    DType sdt = half ? DType.F32 : dt;
    if (half) {
      scores = cx.op("Cast", List.of(scores), Attr.i("to", sdt.onnxCode));
    }
    String negInf = cx.scalar(Double.NEGATIVE_INFINITY, sdt);
    if (in.size() == 4) {
      String mask = in.get(3);
      if (ops.get(3).type().dtype() == DType.BOOL) {
        scores = cx.op("Where", mask, scores, negInf);
      } else {
        String m =
            ops.get(3).type().dtype() == sdt
                ? mask
                : cx.op("Cast", List.of(mask), Attr.i("to", sdt.onnxCode));
        scores = cx.op("Add", scores, m);
      }
    }
    if (AttentionOps.CAUSAL.get(n.attrs())) {
      String lq = length(cx, q, qt, r - 2);
      String lk = length(cx, k, kt, r - 2);
      String qpos = cx.op("Range", cx.i64(0), lq, cx.i64(1));
      String cols = lk.equals(lq) ? qpos : cx.op("Range", cx.i64(0), lk, cx.i64(1));
      long offset = AttentionOps.CAUSAL_OFFSET.get(n.attrs());
      String shifted = offset == 0 ? qpos : cx.op("Add", qpos, cx.i64(offset));
      String rows = cx.op("Unsqueeze", shifted, cx.i64s(1));
      String keep = cx.op("LessOrEqual", cols, rows);
      scores = cx.op("Where", keep, scores, negInf);
    }
    String probs = cx.op("Softmax", List.of(scores), Attr.i("axis", -1));
    if (half) {
      probs = cx.op("Cast", List.of(probs), Attr.i("to", dt.onnxCode));
    }
    cx.node("MatMul", List.of(probs, in.get(2)), out);
  }

  /**
   * Axis {@code axis} of a value as a rank-0 int64: a constant when known, else read at runtime.
   */
  private static String length(LoweringContext cx, String v, TensorType t, int axis) {
    Dim d = t.dim(axis);
    return d.isKnown() ? cx.i64(d.value()) : cx.axisScalar(v, axis);
  }
}
