package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.cli.Main;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.Need;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * torchvision CNNs exported by PyTorch in the test (random seeded weights, opset 17, symbolic
 * batch), brought in as a user would: {@code cmod wrap}, compile at -O0 and -O2, and compare with
 * the exported file on ONNX Runtime for the same inputs. squeezenet and googlenet use {@code
 * MaxPool ceil_mode = 1}, densenet uses {@code Pad}: all three are raised into the IR entirely.
 */
class TorchvisionImportTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"squeezenet1_1", "googlenet", "densenet121"})
  void theWrappedExportEqualsTheOriginal(String name) throws Exception {
    Need.TORCHVISION.require();
    Path onnx = dir.resolve(name + ".onnx");
    Process p =
        new ProcessBuilder(
                Need.torchPython(),
                Need.root().resolve("samples/src/test/python/torchvision_export.py").toString(),
                name,
                onnx.toString())
            .redirectErrorStream(true)
            .start();
    String log = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("export of " + name + " failed:\n" + log);
    }
    Path w = dir.resolve(name + ".cmod");
    assertEquals(0, Main.execute("wrap", onnx.toString(), "-o", w.toString()));
    byte[] original = Files.readAllBytes(onnx);
    for (int level : new int[] {0, 2}) {
      E2E.Built b = E2E.compileFile(w, E2E.opts(level));
      // no opaque region is left in the graph
      assertEquals(
          0, b.graph().nodes().stream().filter(n -> n.op() == Op.ONNX_REGION).count(), name);
      Map<String, Tensor> in = E2E.inputs(b, Map.of("batch", 2L), 3);
      Map<String, Tensor> want = E2E.runOrt(original, in);
      Map<String, Tensor> got = E2E.runOrt(b.onnx(), in);
      List<String> ws = List.copyOf(want.keySet());
      List<String> gs = List.copyOf(got.keySet());
      assertEquals(ws.size(), gs.size());
      for (int i = 0; i < ws.size(); i++) {
        E2E.assertClose(want.get(ws.get(i)), got.get(gs.get(i)), 1e-4, 1e-5, name + " -O" + level);
      }
    }
  }
}
