package dev.cmod.compiler.pass;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.print.TextParser;
import dev.cmod.ir.print.TextPrinter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pass manager's contract: order checks, cleanup, disabling, verification, instruments. */
class PassManagerTest {
  private static final String PROGRAM =
      """
      %0 = input "x" : f32[3]
      %1 = const [1] : f32[]
      %2 = mul(%0, %1) : f32[3]
      %3 = const [2, 3, 4] : f32[3]
      %4 = const [1, 1, 1] : f32[3]
      %5 = add(%3, %4) : f32[3]
      %6 = add(%2, %5) : f32[3]
      %7 = add(%2, %5) : f32[3]
      %8 = mul(%6, %7) : f32[3]
      output "y" = %8
      """;

  private static Graph program() {
    return TextParser.parse("p", PROGRAM);
  }

  @Test
  void thePipelinesAreWrittenOutWithReasons() {
    assertEquals(
        List.of(
            "sparse-routing",
            "lower-routing",
            "dce",
            "cse",
            "simplify",
            "constant-folding",
            "parameter-folding"),
        List.copyOf(Pipeline.knownPasses()));
    assertEquals(
        List.of("lower-routing"), Pipeline.forLevel(0).passes().stream().map(Pass::name).toList());
    assertEquals(
        List.of("lower-routing", "dce", "constant-folding", "cse"),
        Pipeline.forLevel(1).passes().stream().map(Pass::name).toList());
    String o2 = Pipeline.forLevel(2).describe();
    assertTrue(o2.startsWith("-O2:\n  sparse-routing: before lower-routing"), o2);
    assertTrue(o2.contains("\n  lower-routing: first at every level"), o2);
    assertTrue(o2.contains("\n  repeat up to 8 rounds"), o2);
    for (Pass p : Pipeline.forLevel(2).passes()) {
      assertTrue(o2.contains("  " + p.name() + ": "), p.name() + " without a reason");
    }
  }

  @Test
  void aPassMustComeAfterThePassesItNeeds() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Pipeline.of(
                    2,
                    List.of(
                        new Pipeline.Step(Pipeline.PARAMETER_FOLDING, "too early"),
                        new Pipeline.Step(Pipeline.CONSTANT_FOLDING, "too late"))));
    assertEquals(
        "pass 'parameter-folding' needs 'constant-folding' to run before it", e.getMessage());
    // alone it is fine: a need only orders passes that are both present
    Pipeline.of(2, List.of(new Pipeline.Step(Pipeline.PARAMETER_FOLDING, "alone")));
  }

  @Test
  void theO2PipelineFoldsSimplifiesMergesAndCleansUp() {
    Graph g = program();
    ChangeLog log = new ChangeLog();
    new PassManager(Pipeline.forLevel(2), PassOptions.NONE.with(log)).run(g);
    assertEquals(
        """
        %0 = input "x" : f32[3]
        %9 = const [3, 4, 5] : f32[3]
        %6 = add(%0, %9) : f32[3]
        %8 = mul(%6, %6) : f32[3]
        output "y" = %8
        """,
        TextPrinter.print(g));
    // sparse-routing and lower-routing (no routes), then round 1 changes (the early cse merges the
    // equal adds,
    // simplify, fold), round 2 changes nothing and ends the repeat
    assertEquals(14, log.runs().size());
    assertEquals(
        List.of("cse", "simplify", "constant-folding"),
        log.runs().stream().filter(PassRun::changed).map(PassRun::pass).toList());
    PassRun simplify = log.runs().get(4);
    assertEquals(java.util.Map.of("MUL_BY_ONE", 1, "dce.removed", 2), simplify.counts());
    assertEquals(8, simplify.nodesBefore());
    assertEquals(6, simplify.nodesAfter(), "the manager removed the dead mul and its constant");
    assertTrue(log.render().contains("  cse (round 1): 9 -> 8 nodes [merge 1, dce.removed 1]\n"));
    assertTrue(log.render().endsWith("  11 of 14 pass runs changed nothing\n"), log.render());
  }

  @Test
  void aDisabledPassIsSkippedAndAnUnknownOneRefused() {
    Graph g = program();
    ChangeLog log = new ChangeLog();
    new PassManager(
            Pipeline.forLevel(2),
            new PassOptions(Set.of("constant-folding", "cse"), false, List.of(log)))
        .run(g);
    assertFalse(log.runs().stream().anyMatch(r -> r.pass().equals("cse")));
    // nothing folded or merged: the constant add and both equal adds stay
    assertEquals(3, g.nodes().stream().filter(n -> n.op() == Op.ADD).count());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new PassManager(
                    Pipeline.forLevel(2), new PassOptions(Set.of("fold"), false, List.of())));
    assertEquals(
        "unknown pass 'fold'; the passes are sparse-routing, lower-routing, dce, cse, simplify,"
            + " constant-folding, parameter-folding",
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new PrintIrAfter("nope", System.err));
  }

  /** A pass that breaks the graph: points a use at a value of another type. */
  private static final Pass BREAKER =
      new Pass() {
        @Override
        public String name() {
          return "dce"; // a known name, so that the manager accepts it in a pipeline
        }

        @Override
        public boolean run(Graph g, PassContext cx) {
          Node add = g.outputs().get("y").node();
          Node c = g.nodes().stream().filter(n -> n.op() == Op.CONST).findFirst().orElseThrow();
          g.replaceUsesBy(g.operands(add).get(0), c.out(), List.of(add));
          return true;
        }
      };

  @Test
  void verificationNamesThePassThatBrokeTheGraph() {
    Graph g =
        TextParser.parse(
            "b",
            """
            %0 = input "x" : f32[3]
            %1 = const [1] : f32[]
            %2 = relu(%0) : f32[3]
            %3 = add(%2, %1) : f32[3]
            output "y" = %3
            """);
    Pipeline broken = Pipeline.of(2, List.of(new Pipeline.Step(BREAKER, "breaks")));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> new PassManager(broken, new PassOptions(Set.of(), true, List.of())).run(g));
    assertTrue(
        e.getMessage().startsWith("the IR failed verification after pass 'dce' (round 1): %3:add"),
        e.getMessage());
  }

  @Test
  void printAndStatisticsInstrumentsWriteWhereTheyAreTold() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    Graph g = program();
    new PassManager(
            Pipeline.forLevel(1),
            PassOptions.NONE.with(new PrintIrAfter("cse", out)).with(new PassStatistics(out)))
        .run(g);
    String text = buf.toString(StandardCharsets.UTF_8);
    assertTrue(text.startsWith("// IR of p after cse (round 1, changed)\n%0 = input"), text);
    assertTrue(text.contains(TextPrinter.print(g) + "pass statistics for p:\n"), text);
    assertTrue(text.contains("\n    CONSTANT_FOLD                     1\n"), text);
    assertTrue(text.contains("\n    merge                             1\n"), text);
  }
}
