package dev.cmod.compiler.pass;

import static dev.cmod.ir.rewrite.Pattern.any;
import static dev.cmod.ir.rewrite.Pattern.anyOf;
import static dev.cmod.ir.rewrite.Pattern.op;
import static dev.cmod.ir.rewrite.Pattern.sameTypeAsRoot;
import static dev.cmod.ir.rewrite.Pattern.scalar;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.rewrite.Pattern;
import dev.cmod.ir.rewrite.Rule;
import dev.cmod.ir.rewrite.RuleSet;
import java.util.List;

/**
 * Local rewrites that remove work without changing results. An arithmetic identity applies only
 * when the unit constant does not broadcast the other operand to a larger shape (the operand has
 * the result's type), so the replacement is exact. Within {@link #ALL} the order is the order in
 * which a node tries them.
 */
public final class AlgebraicRules {
  private AlgebraicRules() {}

  /** The operand the identity keeps: any value of exactly the result's type. */
  private static Pattern kept() {
    return sameTypeAsRoot().as("x");
  }

  /** {@code x * 1 -> x} and {@code 1 * x -> x}. */
  public static final Rule MUL_BY_ONE =
      Rule.forward(
          "MUL_BY_ONE",
          anyOf(op(Op.MUL).operands(kept(), scalar(1)), op(Op.MUL).operands(scalar(1), kept())),
          "x");

  /** {@code x / 1 -> x}. */
  public static final Rule DIV_BY_ONE =
      Rule.forward("DIV_BY_ONE", op(Op.DIV).operands(kept(), scalar(1)), "x");

  /** {@code x + 0 -> x} and {@code 0 + x -> x}. */
  public static final Rule ADD_ZERO =
      Rule.forward(
          "ADD_ZERO",
          anyOf(op(Op.ADD).operands(kept(), scalar(0)), op(Op.ADD).operands(scalar(0), kept())),
          "x");

  /** {@code x - 0 -> x}. */
  public static final Rule SUB_ZERO =
      Rule.forward("SUB_ZERO", op(Op.SUB).operands(kept(), scalar(0)), "x");

  /** A reshape to the shape its operand already has is its operand. */
  public static final Rule RESHAPE_IDENTITY =
      Rule.forward("RESHAPE_IDENTITY", op(Op.RESHAPE).operands(kept()), "x");

  /** {@code reshape(reshape(y)) -> reshape(y)}: only the last target shape matters. */
  public static final Rule RESHAPE_OF_RESHAPE =
      Rule.of(
          "RESHAPE_OF_RESHAPE",
          op(Op.RESHAPE).operands(op(Op.RESHAPE).operands(any().as("y"))),
          (m, rw) -> {
            Node n = m.root();
            Node r = rw.create(Op.RESHAPE, n.attrs(), List.of(m.value("y")), n.loc());
            return rw.replaceOp(n, r.out());
          });

  /** {@code transpose(transpose(y)) -> y} when the two permutations compose to the identity. */
  public static final Rule TRANSPOSE_INVERSE =
      Rule.of(
          "TRANSPOSE_INVERSE",
          op(Op.TRANSPOSE).operands(op(Op.TRANSPOSE).operands(any().as("y")).as("inner")),
          m -> {
            long[] p = m.root().attrs().getLongs("perm");
            long[] q = m.node("inner").attrs().getLongs("perm");
            for (int i = 0; i < p.length; i++) {
              if (q[(int) p[i]] != i) {
                return false;
              }
            }
            return true;
          },
          (m, rw) -> rw.replaceOp(m.root(), m.value("y")));

  /**
   * Every algebraic rule. The identity reshape comes before reshape-of-reshape: forwarding the
   * operand is cheaper than building a new node.
   */
  public static final RuleSet ALL =
      RuleSet.of(
          "algebraic",
          MUL_BY_ONE,
          DIV_BY_ONE,
          ADD_ZERO,
          SUB_ZERO,
          RESHAPE_IDENTITY,
          RESHAPE_OF_RESHAPE,
          TRANSPOSE_INVERSE);
}
