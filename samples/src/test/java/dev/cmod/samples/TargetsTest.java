package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.cmod.cli.Toolchain;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.Target;
import dev.cmod.testkit.E2E;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every sample compiles for every target at -O0 and -O2, and each artifact's outputs on ONNX
 * Runtime equal those of the -O0 onnx17 artifact (1e-5); the artifact imports the target's opset
 * (and, for ort, the com.microsoft domain). On the causal language model, --target ort does emit
 * the fused operators.
 */
class TargetsTest {
  private static final double TOL = 1e-5;

  static Stream<Path> samples() throws Exception {
    return SamplesTest.samples();
  }

  @ParameterizedTest
  @MethodSource("samples")
  void everyTargetComputesWhatOnnx17AtO0Computes(Path sample) throws Exception {
    E2E.Built base = E2E.compileFile(sample, E2E.opts(0));
    Map<String, Long> sym = new LinkedHashMap<>();
    for (String s : base.graph().symbols().keySet()) {
      sym.put(s, s.equals("batch") ? 2L : 7L);
    }
    Map<String, Tensor> in = E2E.inputs(base, sym, 11);
    Map<String, Tensor> want = E2E.runOrt(base.onnx(), in);
    for (Target t : Target.values()) {
      for (int level : new int[] {0, 2}) {
        byte[] onnx = Toolchain.compile(sample, E2E.opts(level), t).onnx();
        ModelProto m = ModelProto.parseFrom(onnx);
        Map<String, Long> opsets = new LinkedHashMap<>();
        for (OperatorSetIdProto o : m.getOpsetImportList()) {
          opsets.put(o.getDomain(), o.getVersion());
        }
        String what = sample + " --target " + t.text() + " -O" + level;
        assertEquals((long) t.opset(), opsets.get(""), what + ": opset");
        assertEquals(t.microsoft(), opsets.containsKey(Target.MICROSOFT), what + ": domains");
        Map<String, Tensor> got = E2E.runOrt(onnx, in);
        for (String k : want.keySet()) {
          E2E.assertClose(want.get(k), got.get(k), TOL, TOL, what + " output " + k);
        }
      }
    }
  }

  @Test
  void ortTargetEmitsTheFusedOperatorsForTheLanguageModel() throws Exception {
    Path lm = Path.of("text_transformer.cmod");
    Set<String> ort = ops(Toolchain.compile(lm, E2E.opts(2), Target.ORT).onnx());
    for (String op :
        new String[] {
          "com.microsoft:MultiHeadAttention",
          "com.microsoft:SkipLayerNormalization",
          "com.microsoft:SkipSimplifiedLayerNormalization",
          "com.microsoft:BiasGelu"
        }) {
      assertTrue(ort.contains(op), op + " in " + ort);
    }
    for (String gone : new String[] {"Erf", "Softmax"}) {
      assertFalse(ort.contains(gone), gone + " is fused away: " + ort);
    }
    Set<String> plain = ops(Toolchain.compile(lm, E2E.opts(2)).onnx());
    assertTrue(plain.contains("Erf") && plain.contains("Softmax"), "onnx17 composes: " + plain);
  }

  private static Set<String> ops(byte[] onnx) throws Exception {
    Set<String> s = new TreeSet<>();
    for (NodeProto n : ModelProto.parseFrom(onnx).getGraph().getNodeList()) {
      s.add(n.getDomain().isEmpty() ? n.getOpType() : n.getDomain() + ":" + n.getOpType());
    }
    return s;
  }
}
