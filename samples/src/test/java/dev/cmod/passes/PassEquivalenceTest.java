package dev.cmod.passes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticRenderer;
import dev.cmod.compiler.pass.Pass;
import dev.cmod.compiler.pass.PassManager;
import dev.cmod.compiler.pass.PassOptions;
import dev.cmod.compiler.pass.Pipeline;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.print.TextPrinter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRegionRunner;
import dev.cmod.testkit.E2E;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Interpreter equivalence: every pass, run alone by the pass manager (with its dead-code cleanup
 * and verification) on the -O0 graph of every corpus model, leaves the interpreter's outputs for
 * the same random inputs equal, up to float rounding of reassociated arithmetic.
 */
class PassEquivalenceTest {
  private static final Set<String> CHANGED = ConcurrentHashMap.newKeySet();

  static Stream<Arguments> cases() {
    List<Arguments> all = new ArrayList<>();
    List<Pass> passes = Pipeline.forLevel(2).passes();
    for (Corpus.Case c : Corpus.cases()) {
      all.add(Arguments.of(c, passes));
    }
    return all.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void eachPassAloneKeepsTheOutputs(Corpus.Case c, List<Pass> passes) {
    for (Pass p : passes) {
      Compilation.Result r = compiled(c);
      Graph g = r.graph();
      Map<String, Long> sizes = new LinkedHashMap<>();
      for (String s : g.symbols().keySet()) {
        sizes.put(s, s.equals("batch") ? 2L : 5L);
      }
      Map<String, Tensor> in = Toolchain.randomInputs(g, r.facts(), sizes, 7);
      Map<String, Tensor> before = Interpreter.run(g, in, OnnxRegionRunner.CPU);
      int nodes = g.nodeCount();
      String text = TextPrinter.print(g);
      Pipeline alone = Pipeline.of(2, List.of(new Pipeline.Step(p, "alone, under test")));
      new PassManager(alone, new PassOptions(Set.of(), true, List.of())).run(g);
      if (g.nodeCount() != nodes || !TextPrinter.print(g).equals(text)) {
        CHANGED.add(p.name());
      }
      Map<String, Tensor> after = Interpreter.run(g, in, OnnxRegionRunner.CPU);
      assertEquals(before.keySet(), after.keySet(), c + " after " + p.name());
      for (String k : before.keySet()) {
        E2E.assertClose(
            before.get(k), after.get(k), 1e-4, 1e-5, c + ": output " + k + " after " + p.name());
      }
    }
  }

  /**
   * The harness is only as good as its corpus: every pass must have had something to change, with
   * two known exceptions. dce: the elaborator leaves no dead nodes, so it has nothing to do alone
   * on an -O0 graph (it runs as the cleanup after each of the others). constant-folding: the
   * elaborator already folds arithmetic on literals, so no corpus program has a constant subtree;
   * the rule's own before/after test covers it. lower-routing: it is required, so the -O0 graphs of
   * the corpus are already lowered; compiler's LowerRoutingTest runs it on an elaborated mixture of
   * experts and compares the interpreter's outputs before and after. sparse-routing: for the same
   * reason it finds no route in an -O0 graph; compiler's SparseRoutingTest compares it with the
   * dense form on elaborated mixtures of experts, and samples' SparseRoutingOrtTest on ONNX
   * Runtime.
   */
  @AfterAll
  static void everyPassChangedSomeModel() {
    Set<String> idle = new java.util.TreeSet<>();
    for (Pass p : Pipeline.forLevel(2).passes()) {
      if (!CHANGED.contains(p.name())) {
        idle.add(p.name());
      }
    }
    assertEquals(
        Set.of("constant-folding", "dce", "lower-routing", "sparse-routing"),
        idle,
        "passes that changed no corpus model");
  }

  private static Compilation.Result compiled(Corpus.Case c) {
    Compilation.Result r = c.compile(E2E.opts(0));
    assertTrue(
        r.ok(),
        () ->
            c
                + " does not compile:\n"
                + r.diagnostics().all().stream()
                    .map(DiagnosticRenderer::human)
                    .collect(Collectors.joining()));
    return r;
  }
}
