package dev.cmod.compiler.pass;

import static dev.cmod.ir.rewrite.Pattern.anyOf;
import static dev.cmod.ir.rewrite.Pattern.constant;
import static dev.cmod.ir.rewrite.Pattern.everyOperand;
import static dev.cmod.ir.rewrite.Pattern.param;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.rewrite.ConstantFolder;
import dev.cmod.ir.rewrite.Match;
import dev.cmod.ir.rewrite.Pattern;
import dev.cmod.ir.rewrite.Rewriter;
import dev.cmod.ir.rewrite.Rule;
import dev.cmod.ir.rewrite.RuleSet;
import dev.cmod.ir.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Rules that evaluate nodes at compile time with the shared {@link ConstantFolder}. Two caps keep
 * apart what may grow an artifact and what cannot: folding node by node ({@link #CONSTANT_FOLD},
 * {@link #PARAMETER_FOLD}) is speculative, a constant broadcast or a product of low-rank factors
 * can be far larger than what it replaces, so its results have at most {@link
 * ConstantFolder#SPECULATIVE_MAX_ELEMENTS} elements; a merge ({@link #PARAMETER_MERGE}) gives one
 * parameter no larger than one it reads, so it is bounded only by what one tensor holds.
 */
public final class FoldingRules {
  private FoldingRules() {}

  /**
   * A node whose operands are all constants becomes constants. Parameters are not constants here: a
   * weights file may change them.
   */
  public static final Rule CONSTANT_FOLD =
      Rule.of(
          "CONSTANT_FOLD",
          everyOperand(constant()),
          m -> ConstantFolder.small(m.root()),
          (m, rw) -> {
            Node n = m.root();
            List<Tensor> out = ConstantFolder.evaluate(n, values(m, n));
            for (int i = 0; i < out.size(); i++) {
              rw.replaceAllUses(n.out(i), rw.constant(out.get(i), n.loc()));
            }
            return true;
          });

  /**
   * A computation over parameters and constants only, with at least one parameter (LoRA merging W +
   * s·(A@B), IA³ scaling W·l, sums of parameters), becomes one parameter, for inference artifacts.
   * The folded value keeps the path of its first parameter operand when that parameter has no other
   * use (so a merged LoRA weight is still {@code base.q.weight}); otherwise it is named {@code
   * <path>.merged} (then {@code .merged1}, ... while taken). It is trainable when any parameter
   * operand was.
   */
  public static final Rule PARAMETER_FOLD =
      Rule.of(
          "PARAMETER_FOLD",
          everyOperand(anyOf(param(), constant())),
          m ->
              m.root().outputTypes().size() == 1
                  && m.operands(m.root()).stream().anyMatch(v -> v.node().op() == Op.PARAM)
                  && ConstantFolder.small(m.root()),
          (m, rw) -> {
            Node n = m.root();
            boolean trainable = false;
            Node first = null;
            for (Value v : m.operands(n)) {
              if (v.node().op() == Op.PARAM) {
                trainable |= v.node().attrs().getBool("trainable", true);
                if (first == null) {
                  first = v.node();
                }
              }
            }
            Tensor value = ConstantFolder.evaluate(n, values(m, n)).get(0);
            boolean reuse = m.users(first).size() == 1 && !m.isModelOutput(first.out());
            return replaceByParameter(m, rw, first, reuse, value, trainable);
          });

  /**
   * A parameter merge at any size one tensor holds: a single-output node computed from parameters
   * and constants only (its whole {@link ParameterCone}, no input on the way) becomes one parameter
   * when the result is no larger than the largest parameter the cone reads — LoRA's {@code W +
   * s·(A@B)} and IA³'s {@code W·l} at d = 4096, sums of parameters, a frozen module's computation
   * on its own weights. It fires only where a node of the cone is beyond the speculative cap (below
   * it, {@link #PARAMETER_FOLD} folds the cone node by node), at the first such node in graph
   * order: a LoRA product {@code A@B} alone is larger than its factors and is left to run as
   * written. The result is named after the cone's first parameter of the result's type (the weight
   * a LoRA or IA³ adapts), or its first parameter when none has that type: that path itself when
   * every use of that parameter is inside the cone, else {@code <path>.merged}; it is trainable
   * when any parameter of the cone was.
   */
  public static final Rule PARAMETER_MERGE =
      Rule.of(
          "PARAMETER_MERGE",
          everyOperand(Pattern.any()),
          m -> {
            Node n = m.root();
            if (n.outputTypes().size() != 1 || !ConstantFolder.foldable(n)) {
              return false;
            }
            for (Value v : m.operands(n)) {
              if (v.node().op() == Op.INPUT) {
                return false; // the common case, answered without a walk
              }
            }
            ParameterCone c = ParameterCone.of(m, n);
            return c != null
                && !c.params().isEmpty()
                && c.beyondSpeculativeCap()
                && ConstantFolder.largestOutput(n, c.largestParam()) >= 0;
          },
          (m, rw) -> {
            ParameterCone c = ParameterCone.of(m, m.root());
            boolean trainable = false;
            for (Node p : c.params()) {
              trainable |= p.attrs().getBool("trainable", true);
            }
            Node first = c.named(m.root());
            boolean reuse = c.usesOnlyInside(m, first) && !m.isModelOutput(first.out());
            return replaceByParameter(m, rw, first, reuse, c.evaluate(m).get(0), trainable);
          });

  /** Constant folding alone (-O1 and -O2). */
  public static final RuleSet CONSTANTS = RuleSet.of("constants", CONSTANT_FOLD);

  /**
   * Parameter folding and merging (-O2: inference artifacts); folding first, so that below the
   * speculative cap the artifact is what folding node by node gives.
   */
  public static final RuleSet PARAMETERS =
      RuleSet.of("parameters", PARAMETER_FOLD, PARAMETER_MERGE);

  /**
   * The root's uses point at a parameter holding {@code value}: {@code first} itself with the new
   * value when {@code reuse} (so a merged LoRA weight is still {@code base.q.weight}), else a new
   * parameter {@code <path>.merged} (then {@code .merged1}, ... while taken).
   */
  private static boolean replaceByParameter(
      Match m, Rewriter rw, Node first, boolean reuse, Tensor value, boolean trainable) {
    Node n = m.root();
    String base = first.attrs().getString("path");
    String path = base;
    if (!reuse) {
      path = base + ".merged";
      for (int k = 1; m.hasParamPath(path); k++) {
        path = base + ".merged" + k;
      }
    }
    if (reuse) {
      // replace the parameter itself so the folded weight keeps its path
      Attrs attrs = Attrs.of("path", path, "value", value, "trainable", trainable);
      Node p = rw.replaceLeaf(first, attrs, n.type());
      return rw.replaceAllUses(n.out(), p.out());
    }
    return rw.replaceAllUses(n.out(), rw.param(path, value, trainable, n.loc()));
  }

  private static List<Tensor> values(Match m, Node n) {
    List<Tensor> ts = new ArrayList<>();
    for (Value v : m.operands(n)) {
      ts.add(v.node().attrs().getTensor("value"));
    }
    return ts;
  }
}
