package dev.cmod.builtins;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.E2E.Built;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every builtin of language.md section 8: a tiny model, compiled at -O0 and -O2, run on ONNX
 * Runtime and on the reference interpreter on random inputs at two different sizes of its symbolic
 * dims; all four runs (ORT and interpreter, -O0 and -O2) must agree within rtol 1e-5 (atol 1e-6).
 */
class BuiltinDifferentialTest {
  static final double RTOL = 1e-5;
  static final double ATOL = 1e-6;

  static Stream<BuiltinCases.Case> cases() {
    return BuiltinCases.all().stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void ortMatchesInterpreter(BuiltinCases.Case c) {
    Built o0 = E2E.compileText(c.source(), E2E.opts(0));
    Built o2 = E2E.compileText(c.source(), E2E.opts(2));
    int round = 0;
    for (Map<String, Long> sizes : List.of(c.sizesA(), c.sizesB())) {
      Map<String, Tensor> in = E2E.inputs(o0, sizes, 17 + round);
      String at = c.name() + " at " + new java.util.TreeMap<>(sizes);
      Map<String, Tensor> ref = E2E.runInterp(o0.graph(), in);
      assertShapesFollowSizes(o0, ref, sizes, at);
      for (Built b : List.of(o0, o2)) {
        String level = b == o0 ? "-O0" : "-O2";
        Map<String, Tensor> ort = E2E.runOrt(b.onnx(), in);
        Map<String, Tensor> interp = E2E.runInterp(b.graph(), in);
        assertEquals(ref.keySet(), ort.keySet(), at + " " + level + ": output names");
        assertShapesFollowSizes(b, ort, sizes, at + " " + level + " ORT");
        for (String k : ref.keySet()) {
          E2E.assertClose(
              ref.get(k),
              ort.get(k),
              RTOL,
              ATOL,
              at + " " + level + " ORT vs interpreter -O0, output " + k);
          E2E.assertClose(
              ref.get(k),
              interp.get(k),
              RTOL,
              ATOL,
              at + " " + level + " interpreter vs -O0, output " + k);
        }
      }
      round++;
    }
  }

  /**
   * Every output's shape is its IR type with the symbols replaced by this run's sizes (the dims are
   * symbolic end to end, and the two size assignments really give different shapes).
   */
  private static void assertShapesFollowSizes(
      Built b, Map<String, Tensor> out, Map<String, Long> sizes, String at) {
    for (Map.Entry<String, Tensor> e : out.entrySet()) {
      TensorType t = b.graph().outputs().get(e.getKey()).type();
      long[] shape = e.getValue().shape();
      assertEquals(t.rank(), shape.length, at + ": rank of output " + e.getKey() + " " + t);
      for (int i = 0; i < shape.length; i++) {
        Dim d = t.dim(i);
        if (!d.isUnknown()) {
          assertEquals(
              d.eval(sizes::get),
              shape[i],
              at + ": axis " + i + " of output " + e.getKey() + " " + t);
        }
      }
    }
  }

  @Test
  void everyBuiltinOfSection8HasACase() {
    Set<String> names = new HashSet<>();
    for (BuiltinCases.Case c : BuiltinCases.all()) {
      assertTrue(names.add(c.name()), "duplicate case " + c.name());
    }
    String all =
        String.join("\n", BuiltinCases.all().stream().map(BuiltinCases.Case::source).toList());
    for (String b :
        List.of(
            "exp(",
            "log(",
            "sqrt(",
            "abs(",
            "tanh(",
            "sigmoid(",
            "relu(",
            "gelu(",
            "approx = \"tanh\"",
            "silu(",
            "erf(",
            "pow(",
            "maximum(",
            "minimum(",
            "where(",
            " < ",
            " <= ",
            " > ",
            " >= ",
            " == ",
            " != ",
            " @ ",
            " + ",
            " - ",
            " * ",
            " / ",
            "= -a",
            "reshape(",
            "-1]",
            "transpose(",
            "flatten(",
            "concat(",
            "split(",
            "slice(",
            "unsqueeze(",
            "squeeze(",
            "broadcast(",
            "sum(",
            "mean(",
            "max(",
            "min(",
            "argmax(",
            "softmax(",
            "log_softmax(",
            "layer_norm(",
            "rms_norm(",
            "attention(",
            "causal = true",
            "mask = ",
            "conv1d(",
            "conv2d(",
            "stride = ",
            "padding = ",
            "avg_pool2d(",
            "max_pool2d(",
            "upsample(",
            "patchify(",
            "take(",
            "one_hot(",
            "cosine(",
            "topk(",
            "cast(",
            "keep = true")) {
      assertTrue(all.contains(b), "no case uses " + b);
    }
  }
}
