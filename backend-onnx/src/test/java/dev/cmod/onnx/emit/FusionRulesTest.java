package dev.cmod.onnx.emit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.print.TextParser;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.EmitOptions;
import dev.cmod.onnx.OnnxEmitter;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.Target;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every fusion rule on a program that holds its pattern (and near misses it must leave alone),
 * {@code src/test/resources/fusion/NAME.ir}: the ONNX operators emitted for the rule's target with
 * fusion off ({@code NAME.before}) and on ({@code NAME.after}), and both artifacts' outputs on ONNX
 * Runtime against the reference interpreter. {@code -Dcmod.fusion.regenerate=true} rewrites the
 * operator lists (read the diff).
 */
class FusionRulesTest {
  private static final Path DIR = Path.of("src/test/resources/fusion");
  private static final double TOL = 1e-5;

  @Test
  void everyRuleHasAProgramAndItsOperatorLists() {
    for (Fusion f : FusionRules.ALL) {
      for (String ext : List.of(".ir", ".before", ".after")) {
        assertTrue(Files.exists(DIR.resolve(f.name() + ext)), "fusion/" + f.name() + ext);
      }
    }
  }

  @Test
  void theDefaultTargetOnlyFusesGemm() {
    for (Fusion f : FusionRules.ALL) {
      assertEquals(
          f == FusionRules.GEMM,
          f.targets().contains(Target.ONNX17),
          f.name() + " on the default target");
    }
  }

  @TestFactory
  Stream<DynamicTest> beforeAfterAndOrtAgainstTheInterpreter() {
    return FusionRules.ALL.stream()
        .map(f -> DynamicTest.dynamicTest(f.name(), () -> check(f.name())));
  }

  private static void check(String rule) throws IOException {
    String text = Files.readString(DIR.resolve(rule + ".ir"));
    Target target =
        Target.parse(text.lines().findFirst().orElseThrow().replace("// target:", "").trim());
    Graph g = TextParser.parse(rule, text);
    Map<String, Integer> fused = OnnxEmitter.fusions(g, target);
    assertTrue(fused.containsKey(rule), rule + " matches on " + target.text() + ": " + fused);

    ModelProto before = GraphEmitter.build(g, EmitOptions.defaults().withTarget(target), false);
    ModelProto after = OnnxEmitter.build(g, EmitOptions.defaults().withTarget(target));
    compareOrWrite(rule + ".before", ops(before));
    compareOrWrite(rule + ".after", ops(after));
    assertEquals(target.opset(), after.getOpsetImport(0).getVersion(), "opset");

    Map<String, Tensor> feeds = feeds(g);
    Map<String, Tensor> want = Interpreter.run(g, feeds);
    for (ModelProto m : List.of(before, after)) {
      Map<String, Tensor> got;
      try (OnnxRunner r = OnnxRunner.open(m.toByteArray(), OnnxRunner.Device.CPU)) {
        got = r.run(feeds);
      }
      for (String out : want.keySet()) {
        assertClose(want.get(out), got.get(out), rule + " output '" + out + "'");
      }
    }
  }

  /** The artifact's operators in order, {@code domain:op} outside the default domain. */
  static List<String> ops(ModelProto m) {
    List<String> out = new ArrayList<>();
    for (NodeProto n : m.getGraph().getNodeList()) {
      out.add(n.getDomain().isEmpty() ? n.getOpType() : n.getDomain() + ":" + n.getOpType());
    }
    return out;
  }

  private static void compareOrWrite(String file, List<String> ops) throws IOException {
    String text = String.join("\n", ops) + "\n";
    Path p = DIR.resolve(file);
    if (Boolean.getBoolean("cmod.fusion.regenerate")) {
      Files.writeString(p, text, StandardCharsets.UTF_8);
      return;
    }
    assertEquals(Files.readString(p), text, "fusion/" + file);
  }

  /**
   * Seeded normal floats; symbolic dims batch 2, others 5; a bool mask random but keeping the
   * diagonal, so that no row is fully masked.
   */
  private static Map<String, Tensor> feeds(Graph g) {
    Random rnd = new Random(7);
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    for (Node in : g.inputs()) {
      TensorType t = in.type();
      long[] shape = new long[t.rank()];
      for (int i = 0; i < shape.length; i++) {
        Dim d = t.dim(i);
        shape[i] = d.isKnown() ? d.value() : d.eval(s -> s.equals("batch") ? 2 : 5);
      }
      int n = Math.toIntExact(Tensor.numel(shape));
      if (t.dtype() == DType.BOOL) {
        long[] b = new long[n];
        long cols = shape[shape.length - 1];
        long rows = shape.length > 1 ? shape[shape.length - 2] : 1;
        for (int i = 0; i < n; i++) {
          long col = i % cols;
          long row = (i / cols) % rows;
          b[i] = row == col || rnd.nextBoolean() ? 1 : 0;
        }
        feeds.put(in.attrs().getString("name"), Tensor.ofLongs(DType.BOOL, shape, b));
      } else {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = (float) rnd.nextGaussian();
        }
        feeds.put(in.attrs().getString("name"), Tensor.ofFloats(shape, f));
      }
    }
    return feeds;
  }

  private static void assertClose(Tensor want, Tensor got, String what) {
    assertEquals(
        java.util.Arrays.toString(want.shape()), java.util.Arrays.toString(got.shape()), what);
    for (int i = 0; i < want.size(); i++) {
      double w = want.get(i);
      double h = got.get(i);
      if (!(Math.abs(w - h) <= TOL + TOL * Math.abs(w))) {
        fail(what + ": element " + i + " is " + h + ", expected " + w);
      }
    }
  }
}
