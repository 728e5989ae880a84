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
import dev.cmod.ir.rewrite.Rule;
import dev.cmod.ir.rewrite.RuleSet;
import dev.cmod.ir.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Rules that evaluate nodes at compile time with the shared {@link ConstantFolder}. Results larger
 * than {@link ConstantFolder#MAX_ELEMENTS} are left alone.
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
            String base = first.attrs().getString("path");
            boolean reuse = m.users(first).size() == 1 && !m.isModelOutput(first.out());
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
          });

  /** Constant folding alone (-O1 and -O2). */
  public static final RuleSet CONSTANTS = RuleSet.of("constants", CONSTANT_FOLD);

  /** Parameter folding alone (-O2: inference artifacts). */
  public static final RuleSet PARAMETERS = RuleSet.of("parameters", PARAMETER_FOLD);

  private static List<Tensor> values(Match m, Node n) {
    List<Tensor> ts = new ArrayList<>();
    for (Value v : m.operands(n)) {
      ts.add(v.node().attrs().getTensor("value"));
    }
    return ts;
  }
}
