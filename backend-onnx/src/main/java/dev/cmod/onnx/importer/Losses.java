package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * ONNX's classification losses composed of IR operators: NegativeLogLikelihoodLoss (each cell's
 * input at its target class, negated and weighted, an ignored target counting nothing) and
 * SoftmaxCrossEntropyLoss (the same over a log-softmax of the scores, which is its optional second
 * output), each reduced by none, sum or the weighted mean.
 */
final class Losses {
  private Losses() {}

  /** The IR operators the losses may add. */
  static final Set<Op> RAISES =
      Set.of(
          Op.RESHAPE,
          Op.GATHER_ELEMENTS,
          Op.TAKE,
          Op.NEG,
          Op.MUL,
          Op.WHERE,
          Op.NOT_EQUAL,
          Op.CAST,
          Op.REDUCE_SUM,
          Op.REDUCE_MEAN,
          Op.DIV,
          Op.LOG_SOFTMAX);

  static void nll(ImportContext cx) {
    cx.out(loss(cx, cx.val(cx.need(0))));
  }

  static void softmaxCrossEntropy(ImportContext cx) {
    Value scores = cx.val(cx.need(0));
    if (scores.type().rank() < 2) {
      throw new ImportException("ONNX operator " + cx.describe() + " needs scores [N, C, ...]");
    }
    Value logProb = cx.add(Op.LOG_SOFTMAX, Attrs.of("axis", 1), scores);
    cx.out(loss(cx, logProb));
    cx.out(1, ImportValue.of(logProb));
  }

  /** The loss of log-probabilities {@code x} [N, C, d...] against the targets (input 1). */
  private static Value loss(ImportContext cx, Value x) {
    DType dt = x.type().dtype();
    Value target = cx.val(cx.need(1));
    Value weight = cx.in(2) == null ? null : cx.val(cx.in(2));
    String reduction = cx.attrString("reduction", "mean");
    if (!dt.isFloat() || !target.type().dtype().isInteger()) {
      throw cx.unsupportedHere("a " + dt + " input with " + target.type().dtype() + " targets");
    }
    if (!List.of("none", "sum", "mean").contains(reduction)) {
      throw new ImportException(
          "ONNX operator " + cx.describe() + ": unknown reduction '" + reduction + "'");
    }
    List<Dim> cells = target.type().dims();
    if (x.type().rank() != cells.size() + 1) {
      throw new ImportException(
          "ONNX operator "
              + cx.describe()
              + ": targets "
              + target.type()
              + " do not fit the input "
              + x.type());
    }
    DType it = target.type().dtype();
    Value keep = null;
    if (cx.attr("ignore_index") != null) {
      keep = cx.add(Op.NOT_EQUAL, target, cx.scalar(cx.attrInt("ignore_index", 0), it));
      target = cx.add(Op.WHERE, keep, target, cx.scalar(0, it));
    }
    List<Dim> column = new ArrayList<>(cells);
    column.add(1, Dim.of(1));
    Value picked = cx.add(Op.GATHER_ELEMENTS, Attrs.of("axis", 1), x, cx.reshape(target, column));
    Value loss = cx.add(Op.NEG, cx.reshape(picked, cells));
    Value w = weight == null ? null : cx.add(Op.TAKE, weight, target);
    if (keep != null) {
      w =
          w == null
              ? cx.add(Op.CAST, Attrs.of("to", dt), keep)
              : cx.add(Op.WHERE, keep, w, cx.scalar(0, dt));
    }
    if (w != null) {
      loss = cx.add(Op.MUL, loss, w);
    }
    return switch (reduction) {
      case "none" -> loss;
      case "sum" -> all(cx, Op.REDUCE_SUM, loss);
      default ->
          w == null
              ? all(cx, Op.REDUCE_MEAN, loss)
              : cx.add(Op.DIV, all(cx, Op.REDUCE_SUM, loss), all(cx, Op.REDUCE_SUM, w));
    };
  }

  /** {@code op} over every axis, to a scalar. */
  private static Value all(ImportContext cx, Op op, Value x) {
    for (int a = x.type().rank() - 1; a >= 0; a--) {
      x = cx.add(op, Attrs.of("axis", a, "keep", false), x);
    }
    return x;
  }
}
