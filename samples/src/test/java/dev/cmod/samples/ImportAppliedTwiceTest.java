package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An imported model applied twice to the same input is computed once at -O2: CSE runs before
 * parameter folding, which would otherwise give each copy folded weights of its own (PaddleOCR's
 * classifier applied twice had 105 Conv nodes instead of 53). Outputs stay those of -O0.
 */
class ImportAppliedTwiceTest {
  @TempDir Path dir;

  @Test
  void theBackboneIsComputedOnce() throws Exception {
    Files.copy(ImportOnnxTest.corpusModel(), dir.resolve("cls.onnx"));
    String once =
        """
        import onnx "cls.onnx" as Orientation
        model Reader {
          input line: Image[3, 48, 192]
          output base: f32[2] = Orientation(line)
        }
        """;
    String twice =
        """
        import onnx "cls.onnx" as Orientation
        import std.nn.{Linear}
        model Reader {
          input line: Image[3, 48, 192]
          let head = Linear(2, 2)
          output base: f32[2] = Orientation(line)
          output probs: f32[2] = head(Orientation(line))
        }
        """;
    long convOnce = convs(E2E.compileSource(dir, "once.cmod", once, E2E.opts(2)).graph());
    E2E.Built b2 = E2E.compileSource(dir, "twice.cmod", twice, E2E.opts(2));
    assertEquals(convOnce, convs(b2.graph()), "the second application must be merged");
    E2E.Built b0 = E2E.compileSource(dir, "twice.cmod", twice, E2E.opts(0));
    assertEquals(2 * convOnce, convs(b0.graph()), "-O0 keeps the program as written");
    Map<String, Tensor> in = E2E.inputs(b0, Map.of("batch", 2L), 5);
    Map<String, Tensor> at0 = E2E.runOrt(b0.onnx(), in);
    Map<String, Tensor> at2 = E2E.runOrt(b2.onnx(), in);
    for (String k : at0.keySet()) {
      E2E.assertClose(at0.get(k), at2.get(k), 1e-4, 1e-5, k);
    }
  }

  private static long convs(Graph g) {
    return g.nodes().stream().filter(n -> n.op() == Op.CONV2D).count();
  }
}
