package dev.cmod.ir.rewrite;

import static dev.cmod.ir.rewrite.Pattern.any;
import static dev.cmod.ir.rewrite.Pattern.anyOf;
import static dev.cmod.ir.rewrite.Pattern.op;
import static dev.cmod.ir.rewrite.Pattern.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.print.TextParser;
import dev.cmod.ir.print.TextPrinter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pattern language, the rewriter's bookkeeping and the driver's order, counts and cap. */
class RewriteDriverTest {
  private static Graph parse(String text) {
    return TextParser.parse("t", text);
  }

  @Test
  void patternsCaptureOperandsAndAlternativesUndoTheirCaptures() {
    Graph g =
        parse(
            """
            %0 = input "x" : f32[3]
            %1 = const [2] : f32[]
            %2 = mul(%1, %0) : f32[3]
            output "y" = %2
            """);
    Node mul = g.outputs().get("y").node();
    Pattern p =
        anyOf(
            op(Op.MUL).operands(any().as("a"), scalar(3)),
            op(Op.MUL).operands(scalar(2).as("k"), any().as("b")));
    Match m = new Match(g, mul);
    assertTrue(p.match(mul.out(), m));
    assertEquals(Op.INPUT, m.node("b").op());
    assertEquals(Op.CONST, m.node("k").op());
    // the first alternative bound "a" before failing on its scalar: the capture was undone
    assertThrows(IllegalArgumentException.class, () -> m.value("a"));
    assertFalse(op(Op.ADD).match(mul.out(), new Match(g, mul)));
    assertEquals(java.util.EnumSet.of(Op.MUL), p.rootOps());
  }

  @Test
  void aNameBoundTwiceMustBeTheSameValue() {
    Graph g =
        parse(
            """
            %0 = input "x" : f32[3]
            %1 = input "z" : f32[3]
            %2 = add(%0, %0) : f32[3]
            %3 = add(%0, %1) : f32[3]
            output "y" = %2
            output "w" = %3
            """);
    Pattern twice = op(Op.ADD).operands(any().as("v"), any().as("v"));
    Node same = g.outputs().get("y").node();
    Node different = g.outputs().get("w").node();
    assertTrue(twice.match(same.out(), new Match(g, same)));
    assertFalse(twice.match(different.out(), new Match(g, different)));
  }

  /** neg(neg(x)) -> x, built by hand to test the driver independent of any catalogue. */
  private static final Rule DOUBLE_NEG =
      Rule.forward("DOUBLE_NEG", op(Op.NEG).operands(op(Op.NEG).operands(any().as("x"))), "x");

  /** neg(x) -> a new neg(x): a rule that never reaches a fixpoint, it rebuilds what it matches. */
  private static final Rule REBUILD_NEG =
      Rule.of(
          "REBUILD_NEG",
          op(Op.NEG).operands(any().as("x")),
          (m, rw) -> {
            Node n = rw.create(Op.NEG, Attrs.NONE, List.of(m.value("x")), null);
            return rw.replaceOp(m.root(), n.out());
          });

  @Test
  void theDriverSweepsInGraphOrderToAFixpointAndCounts() {
    Graph g =
        parse(
            """
            %0 = input "x" : f32[3]
            %1 = neg(%0) : f32[3]
            %2 = neg(%1) : f32[3]
            %3 = neg(%2) : f32[3]
            %4 = neg(%3) : f32[3]
            output "y" = %4
            """);
    List<String> log = new ArrayList<>();
    RewriteDriver.Result r =
        RewriteDriver.apply(
            g, RuleSet.of("s", DOUBLE_NEG), 8, (rule, root, edits) -> log.add(root + " " + edits));
    assertTrue(r.changed());
    assertFalse(r.capped());
    // sweep 1 in order: %2 = neg(neg(x)) becomes x, so %3 is neg(x) and does not match, and %4 =
    // neg(%3) = neg(neg(x)) becomes x too
    assertEquals(List.of("%2:neg [replace %2 by %0]", "%4:neg [replace %4 by %0]"), log);
    assertEquals(2, r.counts().get("DOUBLE_NEG"));
    assertEquals(2, r.sweeps(), "the second sweep finds nothing (dead nodes are skipped)");
    assertEquals(Op.INPUT, g.outputs().get("y").node().op());
  }

  @Test
  void theCapStopsARuleThatAlwaysApplies() {
    Graph g =
        parse(
            """
            %0 = input "x" : f32[3]
            %1 = neg(%0) : f32[3]
            output "y" = %1
            """);
    RewriteDriver.Result r = RewriteDriver.apply(g, RuleSet.of("s", REBUILD_NEG), 3, null);
    assertEquals(3, r.sweeps());
    assertTrue(r.capped());
    assertEquals(3, r.counts().get("REBUILD_NEG"));
    assertEquals(3, r.total());
    assertThrows(
        IllegalArgumentException.class,
        () -> RewriteDriver.apply(g, RuleSet.of("s", REBUILD_NEG), 0, null));
  }

  @Test
  void theRewriterRecordsOnlyRealChanges() {
    Graph g =
        parse(
            """
            %0 = input "x" : f32[3]
            %1 = neg(%0) : f32[3]
            %2 = relu(%0) : f32[3]
            output "y" = %1
            """);
    Rewriter rw = new Rewriter(g);
    Node relu = g.nodes().get(2);
    Value x = g.inputs().get(0).out();
    assertFalse(rw.replaceAllUses(relu.out(), x), "relu has no use");
    assertFalse(rw.replaceAllUses(x, x));
    assertTrue(rw.replaceAllUses(g.outputs().get("y"), x));
    rw.erase(relu);
    assertEquals(
        List.of("replace %1 by %0", "erase %2:relu"),
        rw.edits().stream().map(Object::toString).toList());
    assertEquals(
        """
        %0 = input "x" : f32[3]
        %1 = neg(%0) : f32[3]
        output "y" = %0
        """,
        TextPrinter.print(g));
  }

  @Test
  void ruleSetsOfferANodeOnlyTheRulesThatCanMatchIt() {
    RuleSet s = RuleSet.of("s", DOUBLE_NEG, REBUILD_NEG);
    assertEquals(List.of(DOUBLE_NEG, REBUILD_NEG), s.rulesFor(Op.NEG));
    assertEquals(List.of(), s.rulesFor(Op.ADD));
    assertEquals(List.of(DOUBLE_NEG, REBUILD_NEG), s.rules());
  }
}
