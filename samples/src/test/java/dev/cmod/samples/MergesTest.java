package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.Requires;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TIES, DARE and task arithmetic over an instance, a {@code repeat} stack and an imported ONNX
 * model, against the numpy reference of resources/peft/merges.py: every merged parameter to 1e-6,
 * and the merged models run on ONNX Runtime against the reference forward pass.
 */
@Requires({Need.TORCH, Need.PYTHON_ONNX})
class MergesTest {
  @TempDir static Path dir;

  @BeforeAll
  static void writeReference() throws Exception {
    String script =
        new String(
            MergesTest.class.getResourceAsStream("/peft/merges.py").readAllBytes(),
            java.nio.charset.StandardCharsets.UTF_8);
    Need.runPython(dir, script);
  }

  static final String SOURCE =
      """
      import std.nn.{Mlp}
      import weights "a.safetensors" as a
      import weights "b.safetensors" as b
      import weights "c.safetensors" as c
      import weights "sa.safetensors" as sa
      import weights "sb.safetensors" as sb
      import weights "ia.safetensors" as ia
      import weights "ib.safetensors" as ib
      import onnx "lin.onnx" as Lin
      model M {
        input x: f32[8]
        let mlp = Mlp(8, 16)
        let s = repeat(2) Mlp(8, 16)
        let tm = ties(mlp, [a, b, c], density = 0.3, weights = [1.0, 0.5, 2.0], scale = 0.8)
        let dm = dare(mlp, [a, b, c], p = 0.6, seed = 11, weights = [1.0, 0.5, 2.0])
        let ts = s + 0.5 * (sa + sb)
        let ds = dare(s, [sa, sb], p = 0.3, seed = 3)
        let tt = ties(s, [sa, sb], density = 0.5)
        let it = Lin + 0.5 * (ia + ib)
        let iti = ties(Lin, [ia, ib], density = 0.5)
        let idr = dare(Lin, [ia, ib], p = 0.5, seed = 5)
        output y_it: f32[4] = it(x)
        output y_iti: f32[4] = iti(x)
        output y_idr: f32[4] = idr(x)
        output y_tm: f32[8] = tm(x)
        output y_dm: f32[8] = dm(x)
        output y_ts: f32[8] = ts(x)
        output y_ds: f32[8] = ds(x)
        output y_tt: f32[8] = tt(x)
      }
      """;

  @Test
  void mergedParametersAndOutputsMatchTheReference() {
    CompileOptions o = E2E.opts(0).withWeightsFile(dir.resolve("base.safetensors"));
    E2E.Built b = E2E.compileSource(dir, "merge.cmod", SOURCE, o);
    Map<String, Tensor> params = new HashMap<>();
    for (Node n : b.graph().nodes()) {
      if (n.op() == Op.PARAM) {
        params.put(n.attrs().getString("path"), n.attrs().getTensor("value"));
      }
    }
    Map<String, Tensor> want = Safetensors.read(dir.resolve("merged.safetensors"));
    assertEquals(2 * 4 + 3 * 8 + 3 * 2, want.size());
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      Tensor got = params.get(e.getKey());
      assertNotNull(got, "the merged parameter " + e.getKey());
      E2E.assertClose(e.getValue(), got, 0, 1e-6, e.getKey());
    }
    for (int level : new int[] {0, 2}) {
      E2E.Built bl =
          level == 0 ? b : E2E.compileSource(dir, "merge.cmod", SOURCE, o.withOptLevel(level));
      Map<String, Tensor> out = E2E.runOrt(bl.onnx(), Map.of("x", Npy.read(dir.resolve("x.npy"))));
      for (String name : new String[] {"tm", "dm", "ts", "ds", "tt", "it", "iti", "idr"}) {
        E2E.assertClose(
            Npy.read(dir.resolve("y_" + name + ".npy")),
            out.get("y_" + name),
            0,
            1e-5,
            name + " at -O" + level);
      }
    }
  }

  /** The same seed gives the same masks; another seed other ones. */
  @Test
  void dareIsDeterministicForASeed() {
    CompileOptions o = E2E.opts(2).withWeightsFile(dir.resolve("base.safetensors"));
    byte[] first = E2E.compileSource(dir, "merge.cmod", SOURCE, o).onnx();
    byte[] again = E2E.compileSource(dir, "merge.cmod", SOURCE, o).onnx();
    byte[] other =
        E2E.compileSource(dir, "merge.cmod", SOURCE.replace("seed = 11", "seed = 12"), o).onnx();
    org.junit.jupiter.api.Assertions.assertArrayEquals(first, again);
    org.junit.jupiter.api.Assertions.assertFalse(java.util.Arrays.equals(first, other));
  }
}
