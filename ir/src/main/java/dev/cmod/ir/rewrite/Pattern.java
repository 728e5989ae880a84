package dev.cmod.ir.rewrite;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * A shape of subgraph to look for, matched at one value. Patterns compose: an op pattern names the
 * ops it accepts and, optionally, one sub-pattern per operand; leaves are any value, a constant, a
 * scalar constant of a given value or a parameter; any pattern can capture the value it matched
 * under a name (a name bound twice must be bound to the same value) or add a condition. Matching
 * has no side effects on the graph; a failed alternative of {@link #anyOf} undoes its captures.
 */
@FunctionalInterface
public interface Pattern {
  /** Whether {@code v} matches, binding captures in {@code m}. */
  boolean match(Value v, Match m);

  /**
   * The ops a root matched by this pattern can have, or null for any op; lets a rule set skip rules
   * that cannot match a node.
   */
  default Set<Op> rootOps() {
    return null;
  }

  /** This pattern, also binding the matched value to {@code name}. */
  default Pattern as(String name) {
    Pattern self = this;
    return new Pattern() {
      @Override
      public boolean match(Value v, Match m) {
        return self.match(v, m) && m.bind(name, v);
      }

      @Override
      public Set<Op> rootOps() {
        return self.rootOps();
      }
    };
  }

  /** This pattern with an extra condition on the matched value (checked after this pattern). */
  default Pattern where(BiPredicate<Value, Match> condition) {
    Pattern self = this;
    return new Pattern() {
      @Override
      public boolean match(Value v, Match m) {
        return self.match(v, m) && condition.test(v, m);
      }

      @Override
      public Set<Op> rootOps() {
        return self.rootOps();
      }
    };
  }

  /** Any value. */
  static Pattern any() {
    return (v, m) -> true;
  }

  /** Output 0 of a node with one of {@code ops}, its operands unconstrained. */
  static OpPattern op(Op first, Op... rest) {
    return new OpPattern(EnumSet.of(first, rest), null);
  }

  /** A constant node's value. */
  static Pattern constant() {
    return op(Op.CONST);
  }

  /** A parameter's value, whose value is fixed (not overridable at run time). */
  static Pattern param() {
    return op(Op.PARAM).where((v, m) -> !dev.cmod.ir.op.LeafOps.OVERRIDABLE.get(v.node().attrs()));
  }

  /** A constant with exactly one element, equal to {@code x}. */
  static Pattern scalar(double x) {
    return constant()
        .where(
            (v, m) -> {
              Tensor t = v.node().attrs().getTensor("value");
              return t.size() == 1 && t.get(0) == x;
            });
  }

  /** A value of the same type as the root's (first) output: replacing the root by it is exact. */
  static Pattern sameTypeAsRoot() {
    return (v, m) -> v.type().equals(m.root().type());
  }

  /** The first alternative that matches, in order; a failed one leaves no captures behind. */
  static Pattern anyOf(Pattern... alternatives) {
    List<Pattern> alts = List.of(alternatives);
    return new Pattern() {
      @Override
      public boolean match(Value v, Match m) {
        for (Pattern p : alts) {
          Map<String, Value> saved = m.snapshot();
          if (p.match(v, m)) {
            return true;
          }
          m.restore(saved);
        }
        return false;
      }

      @Override
      public Set<Op> rootOps() {
        EnumSet<Op> ops = EnumSet.noneOf(Op.class);
        for (Pattern p : alts) {
          if (p.rootOps() == null) {
            return null;
          }
          ops.addAll(p.rootOps());
        }
        return ops;
      }
    };
  }

  /**
   * Output 0 of an operator node (not a leaf) with at least one operand, every operand matching
   * {@code each}.
   */
  static Pattern everyOperand(Pattern each) {
    return (v, m) -> {
      Node n = v.node();
      if (v.index() != 0 || n.op().isLeaf()) {
        return false;
      }
      List<Value> actual = m.operands(n);
      if (actual.isEmpty()) {
        return false;
      }
      for (Value a : actual) {
        if (!each.match(a, m)) {
          return false;
        }
      }
      return true;
    };
  }

  /** A node kind with optional operand sub-patterns (exact arity when given). */
  final class OpPattern implements Pattern {
    private final Set<Op> ops;
    private final List<Pattern> operands;

    OpPattern(Set<Op> ops, List<Pattern> operands) {
      this.ops = ops;
      this.operands = operands;
    }

    /** The same op kinds with one pattern per operand, in slot order. */
    public OpPattern operands(Pattern... ps) {
      return new OpPattern(ops, List.of(ps));
    }

    @Override
    public boolean match(Value v, Match m) {
      Node n = v.node();
      if (v.index() != 0 || !ops.contains(n.op())) {
        return false;
      }
      if (operands == null) {
        return true;
      }
      List<Value> actual = m.operands(n);
      if (actual.size() != operands.size()) {
        return false;
      }
      for (int i = 0; i < actual.size(); i++) {
        if (!operands.get(i).match(actual.get(i), m)) {
          return false;
        }
      }
      return true;
    }

    @Override
    public Set<Op> rootOps() {
      return ops;
    }
  }
}
