package dev.cmod.compiler.pass;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.print.TextParser;
import dev.cmod.ir.rewrite.ConstantFolder;
import dev.cmod.ir.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Parameter merging beyond the speculative folding cap ({@link FoldingRules#PARAMETER_MERGE}): the
 * -O2 pipeline on graphs whose weights are larger than {@link
 * ConstantFolder#SPECULATIVE_MAX_ELEMENTS}, with random values, checked against the interpreter on
 * the unoptimized graph; and the cases that must stay as written (a low-rank product alone, a
 * broadcast, anything an input reaches, and everything below the cap).
 */
class ParameterMergeTest {
  // [2048, 1024] = 2^21 elements: beyond the speculative cap, as a d = 1024 MLP weight is
  private static final String W = "f32[2048, 1024]";

  /** W + s·(A@B), stacked twice on one weight, and IA³ on another: every factor merges. */
  @Test
  void loraAndIa3MergeBeyondTheCap() {
    Graph g =
        parse(
            "%0 = input \"x\" : f32[batch, 2048]",
            "%1 = param \"q.weight\" : " + W,
            "%2 = param \"q.weight.lora_a\" : f32[2048, 4]",
            "%3 = param \"q.weight.lora_b\" : f32[4, 1024]",
            "%4 = matmul(%2, %3) : " + W,
            "%5 = const [0.5] : f32[]",
            "%6 = mul(%4, %5) : " + W,
            "%7 = add(%1, %6) : " + W,
            "%8 = param \"q.weight.lora1_a\" : f32[2048, 2]",
            "%9 = param \"q.weight.lora1_b\" : f32[2, 1024]",
            "%10 = matmul(%8, %9) : " + W,
            "%11 = mul(%10, %5) : " + W,
            "%12 = add(%7, %11) : " + W,
            "%13 = matmul(%0, %12) : f32[batch, 1024]",
            "%14 = param \"up.weight\" : f32[1024, 2048]",
            "%15 = param \"up.weight.ia3\" : f32[2048]",
            "%16 = mul(%15, %14) : f32[1024, 2048]",
            "%17 = matmul(%13, %16) : f32[batch, 2048]",
            "output \"y\" = %17");
    Map<String, Integer> counts = optimizeAndCompare(g);
    assertEquals(List.of("q.weight", "up.weight"), paramPaths(g));
    assertEquals(2, countOps(g, Op.MATMUL), "only the two input matmuls are left");
    assertEquals(0, counts.get("PARAMETER_FOLD"));
    assertEquals(3, counts.get("PARAMETER_MERGE"));
  }

  /**
   * A parameter shared with another use keeps its value: the merge is a new parameter {@code
   * .merged}; a frozen computation on weights alone (a transpose, a norm's scale) merges too.
   */
  @Test
  void sharedWeightAndFrozenComputation() {
    Graph g =
        parse(
            "%0 = input \"x\" : f32[batch, 2048]",
            "%1 = param \"w\" {trainable=false} : " + W,
            "%2 = param \"w.lora_a\" : f32[2048, 2]",
            "%3 = param \"w.lora_b\" : f32[2, 1024]",
            "%4 = matmul(%2, %3) : " + W,
            "%5 = add(%1, %4) : " + W,
            "%6 = matmul(%0, %5) : f32[batch, 1024]",
            "%7 = matmul(%0, %1) : f32[batch, 1024]",
            "%8 = transpose(%1) {perm=[1, 0]} : f32[1024, 2048]",
            "%9 = param \"g\" {trainable=false} : f32[2048]",
            "%10 = mul(%8, %9) : f32[1024, 2048]",
            "%11 = add(%6, %7) : f32[batch, 1024]",
            "%12 = matmul(%11, %10) : f32[batch, 2048]",
            "output \"y\" = %12");
    optimizeAndCompare(g);
    assertEquals(List.of("w", "w.merged", "w.merged1"), paramPaths(g));
    Node transposed = param(g, "w.merged1");
    assertTrue(
        !transposed.attrs().getBool("trainable", true), "merged from frozen weights: frozen");
    assertTrue(param(g, "w.merged").attrs().getBool("trainable", true), "a factor was trainable");
  }

  /**
   * Folds that would make the artifact larger stay as written beyond the cap: a low-rank product
   * used alone (x @ (A@B), cheaper as it is) and a broadcast of a parameter; an input's computation
   * never folds.
   */
  @Test
  void growingFoldsStayAsWritten() {
    Graph g =
        parse(
            "%0 = input \"x\" : f32[batch, 2048]",
            "%1 = param \"a\" : f32[2048, 4]",
            "%2 = param \"b\" : f32[4, 1024]",
            "%3 = matmul(%1, %2) : " + W,
            "%4 = matmul(%0, %3) : f32[batch, 1024]",
            "%5 = param \"row\" : f32[1024]",
            "%6 = broadcast(%5) {dims=[2048, 1024]} : " + W,
            "%7 = matmul(%0, %6) : f32[batch, 1024]",
            "%8 = add(%4, %7) : f32[batch, 1024]",
            "output \"y\" = %8");
    Map<String, Integer> counts = optimizeAndCompare(g);
    assertEquals(0, counts.get("PARAMETER_MERGE"));
    assertEquals(List.of("a", "b", "row"), paramPaths(g));
  }

  /**
   * Below the cap the merge rule never fires: folding node by node gives the artifact as before.
   */
  @Test
  void belowTheCapFoldingNodeByNodeDoesIt() {
    Graph g =
        parse(
            "%0 = input \"x\" : f32[batch, 1024]",
            "%1 = param \"q.weight\" : f32[1024, 1024]",
            "%2 = param \"q.weight.lora_a\" : f32[1024, 4]",
            "%3 = param \"q.weight.lora_b\" : f32[4, 1024]",
            "%4 = matmul(%2, %3) : f32[1024, 1024]",
            "%5 = const [0.5] : f32[]",
            "%6 = mul(%4, %5) : f32[1024, 1024]",
            "%7 = add(%1, %6) : f32[1024, 1024]",
            "%8 = matmul(%0, %7) : f32[batch, 1024]",
            "output \"y\" = %8");
    Map<String, Integer> counts = optimizeAndCompare(g);
    assertEquals(0, counts.get("PARAMETER_MERGE"));
    assertEquals(3, counts.get("PARAMETER_FOLD"));
    assertEquals(List.of("q.weight"), paramPaths(g));
  }

  /**
   * Random parameter values, the -O2 pipeline, then the interpreter on the original and the
   * optimized graph with the same input: equal outputs. Returns the rewrites per folding rule.
   */
  private static Map<String, Integer> optimizeAndCompare(Graph g) {
    Random rnd = new Random(7);
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        Tensor t = n.attrs().getTensor("value");
        float[] f = t.floats();
        for (int i = 0; i < f.length; i++) {
          f[i] = (float) rnd.nextGaussian() * 0.05f;
        }
      }
    }
    long width = g.inputs().get(0).type().dim(1).value();
    float[] x = new float[(int) (3 * width)];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    Map<String, Tensor> in = Map.of("x", Tensor.ofFloats(new long[] {3, width}, x));
    Tensor before = Interpreter.run(g, in).get("y");
    ChangeLog log = new ChangeLog();
    new PassManager(Pipeline.forLevel(2), PassOptions.NONE.with(log)).run(g);
    Map<String, Integer> counts = new TreeMap<>();
    counts.put("PARAMETER_FOLD", 0);
    counts.put("PARAMETER_MERGE", 0);
    for (PassRun run : log.runs()) {
      for (String rule : List.of("PARAMETER_FOLD", "PARAMETER_MERGE")) {
        counts.merge(rule, run.counts().getOrDefault(rule, 0), Integer::sum);
      }
    }
    Tensor after = Interpreter.run(g, in).get("y");
    float[] a = before.floats();
    float[] b = after.floats();
    assertEquals(a.length, b.length);
    for (int i = 0; i < a.length; i++) {
      assertEquals(a[i], b[i], 1e-4 * (1 + Math.abs(a[i])), "output " + i);
    }
    return counts;
  }

  private static Graph parse(String... lines) {
    return TextParser.parse("merge", String.join("\n", lines) + "\n");
  }

  private static List<String> paramPaths(Graph g) {
    List<String> out = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        out.add(n.attrs().getString("path"));
      }
    }
    out.sort(null);
    return out;
  }

  private static Node param(Graph g, String path) {
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM && n.attrs().getString("path").equals(path)) {
        return n;
      }
    }
    throw new AssertionError("no parameter " + path);
  }

  private static int countOps(Graph g, Op op) {
    int k = 0;
    for (Node n : g.nodes()) {
      k += n.op() == op ? 1 : 0;
    }
    return k;
  }
}
