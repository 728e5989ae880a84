package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.cmod.cli.Toolchain;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.interp.InterpreterException;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.Precision;
import dev.cmod.onnx.Target;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.Requires;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The opaque tier of {@code import onnx}: models whose operators the importer does not raise
 * (LpNormalization, an If whose branches read an outer value, com.microsoft contrib ops, and a mix
 * with raised ops around them), written by {@code opaque/make_models.py} with python3-onnx. Each is
 * imported by a .cmod wrapper, compiled at -O0 and -O2, and run on ONNX Runtime and on the
 * interpreter (whose region runner runs the regions on ONNX Runtime); both must equal the original
 * file run on ONNX Runtime.
 */
@Requires(Need.PYTHON_ONNX)
class OpaqueImportTest {
  @TempDir Path dir;

  @BeforeEach
  void makeModels() throws Exception {
    Path script = dir.resolve("make_models.py");
    try (var in = getClass().getResourceAsStream("/opaque/make_models.py")) {
      Files.write(script, in.readAllBytes());
    }
    Process p =
        new ProcessBuilder(Need.python(), script.toString(), dir.toString())
            .redirectErrorStream(true)
            .start();
    String log = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python did not finish");
    assertEquals(0, p.exitValue(), log);
  }

  /** Compiles {@code body} at -O0 and -O2 and compares both runs with the original file. */
  private List<E2E.Built> check(String file, String in, String out, String outputs)
      throws Exception {
    String src =
        "import onnx \""
            + file
            + "\" as M\nmodel W {\n  input x: f32"
            + in
            + "\n"
            + outputs.replace("OUT", "f32" + out)
            + "}\n";
    List<E2E.Built> built = new java.util.ArrayList<>();
    for (int level : new int[] {0, 2}) {
      E2E.Built b = E2E.compileSource(dir, "w" + level + ".cmod", src, E2E.opts(level));
      built.add(b);
      checkerAccepts(b.onnx());
      for (long batch : new long[] {1, 3}) {
        Map<String, Tensor> feeds = E2E.inputs(b, Map.of("batch", batch), 11 + batch);
        Map<String, Tensor> ort = E2E.assertOrtMatchesInterpreter(b, feeds, 1e-5, 1e-5);
        Tensor original =
            E2E.runOrt(Files.readAllBytes(dir.resolve(file)), Map.of("x", feeds.get("x"))).get("y");
        for (Map.Entry<String, Tensor> e : ort.entrySet()) {
          E2E.assertClose(original, e.getValue(), 1e-5, 1e-5, e.getKey() + " vs " + file);
        }
      }
    }
    return built;
  }

  /**
   * ONNX's checker accepts the emitted model (names unique across scopes, subgraphs well formed).
   */
  private void checkerAccepts(byte[] onnx) throws Exception {
    Path f = Files.createTempFile(dir, "emitted", ".onnx");
    Files.write(f, onnx);
    Process p =
        new ProcessBuilder(
                Need.python(),
                "-c",
                "import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]))",
                f.toString())
            .redirectErrorStream(true)
            .start();
    String log = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python did not finish");
    assertEquals(0, p.exitValue(), log);
  }

  private static long regions(E2E.Built b) {
    return b.graph().nodes().stream().filter(n -> n.op() == Op.ONNX_REGION).count();
  }

  @Test
  void aRegionStaysAtOpset17SoOnnx20And23RefuseItAndOrtKeepsIt() throws Exception {
    Path f = dir.resolve("target.cmod");
    Files.writeString(
        f,
        "import onnx \"contrib.onnx\" as M\nmodel W {\n  input x: f32[3, 4]\n"
            + "  output y: f32[3, 5] = M(x)\n}\n");
    for (Target t : List.of(Target.ONNX20, Target.ONNX23)) {
      RuntimeException e =
          assertThrows(RuntimeException.class, () -> Toolchain.compile(f, E2E.opts(2), t));
      assertTrue(e.getMessage().contains("opaque region"), e.getMessage());
    }
    byte[] plain = Toolchain.compile(f, E2E.opts(2)).onnx();
    byte[] ort = Toolchain.compile(f, E2E.opts(2), Target.ORT).onnx();
    Map<String, Tensor> feeds =
        Map.of("x", E2E.inputs(E2E.compileFile(f, E2E.opts(2)), Map.of(), 5).get("x"));
    E2E.assertClose(
        E2E.runOrt(plain, feeds).get("y"), E2E.runOrt(ort, feeds).get("y"), 1e-6, 1e-6, "ort");
    long microsoft =
        ModelProto.parseFrom(ort).getOpsetImportList().stream()
            .filter(o -> o.getDomain().equals(Target.MICROSOFT))
            .count();
    assertEquals(1, microsoft, "the region's com.microsoft and the target's are one import");
  }

  @Test
  void atHalfPrecisionARegionStaysF32() throws Exception {
    Path f = dir.resolve("half.cmod");
    Files.writeString(
        f,
        "import onnx \"contrib.onnx\" as M\nmodel W {\n  input x: f32[3, 4]\n"
            + "  output y: f32[3, 5] = M(x) * 2.0 + 1.0\n}\n");
    for (Target t : List.of(Target.ONNX17, Target.ORT)) {
      byte[] full = Toolchain.compile(f, E2E.opts(0), t).onnx();
      byte[] half = Toolchain.compile(f, E2E.opts(0), t, Precision.F16).onnx();
      // the region's own nodes and initializers are copied as they are: f32
      ModelProto m = ModelProto.parseFrom(half);
      for (var init : m.getGraph().getInitializerList()) {
        if (init.getName().startsWith("r")) {
          assertEquals(1, init.getDataType(), init.getName() + " inside the region stays f32");
        }
      }
      Map<String, Tensor> feeds =
          Map.of("x", E2E.inputs(E2E.compileFile(f, E2E.opts(0)), Map.of(), 5).get("x"));
      HalfPrecisionSamplesTest.assertWithinBound(
          E2E.runOrt(full, feeds).get("y"), E2E.runOrt(half, feeds).get("y"), t.text());
    }
  }

  @Test
  void anUnraisedOperatorIsCarriedOpaque() throws Exception {
    List<E2E.Built> b = check("lpnorm.onnx", "[4, 4]", "[4, 4]", "  output y: OUT = M(x)\n");
    assertEquals(1, regions(b.get(0)));
  }

  @Test
  void ifWithBranchesReadingAnOuterValue() throws Exception {
    List<E2E.Built> b = check("if.onnx", "[4]", "[4]", "  output y: OUT = M(x)\n");
    assertEquals(1, regions(b.get(0)));
    // the condition is raised: only the If is opaque, and the region reads x for its branches
    Node r =
        b.get(0).graph().nodes().stream().filter(n -> n.op() == Op.ONNX_REGION).findFirst().get();
    assertEquals(2, b.get(0).graph().operands(r).size(), "the condition and the outer x");
  }

  @Test
  void microsoftContribOpWithItsInitializerInside() throws Exception {
    List<E2E.Built> b = check("contrib.onnx", "[3, 4]", "[3, 5]", "  output y: OUT = M(x)\n");
    // the weight only the region reads stays inside it: no parameter in the graph
    assertEquals(
        0, b.get(0).graph().nodes().stream().filter(n -> n.op() == Op.PARAM).count(), "params");
    // emitted inline: the region's node and initializer under its prefix, its domain imported
    ModelProto m = ModelProto.parseFrom(b.get(0).onnx());
    assertTrue(
        m.getOpsetImportList().stream()
            .anyMatch(o -> o.getDomain().equals("com.microsoft") && o.getVersion() == 1),
        m.getOpsetImportList().toString());
    assertTrue(
        m.getOpsetImportList().stream()
            .anyMatch(o -> o.getDomain().isEmpty() && o.getVersion() == 17));
    NodeProto fused =
        m.getGraph().getNodeList().stream()
            .filter(n -> n.getOpType().equals("FusedMatMul"))
            .findFirst()
            .get();
    assertTrue(fused.getName().matches("r\\d+/.*"), fused.getName());
    assertTrue(fused.getInput(1).matches("r\\d+/B"), fused.getInput(1));
    assertTrue(
        m.getGraph().getInitializerList().stream()
            .anyMatch(t -> t.getName().equals(fused.getInput(1))));
  }

  @Test
  void raisedOpsAroundARunOfOpaqueOnesAndTwoApplicationsMerge() throws Exception {
    List<E2E.Built> b =
        check("mixed.onnx", "[4, 4]", "[4, 3]", "  output y: OUT = M(x)\n  output z: OUT = M(x)\n");
    // LpNormalization and Gelu are consecutive: one region per application; -O2 merges the two
    assertEquals(2, regions(b.get(0)), "-O0");
    assertEquals(1, regions(b.get(1)), "-O2");
    assertTrue(
        b.get(0).graph().nodes().stream().anyMatch(n -> n.op() == Op.MATMUL), "MatMul is raised");
  }

  @Test
  void theInterpreterWithoutARunnerRefusesARegion() throws Exception {
    List<E2E.Built> b = check("contrib.onnx", "[3, 4]", "[3, 5]", "  output y: OUT = M(x)\n");
    Map<String, Tensor> feeds = E2E.inputs(b.get(0), Map.of("batch", 2L), 3);
    InterpreterException e =
        assertThrows(InterpreterException.class, () -> Interpreter.run(b.get(0).graph(), feeds));
    assertTrue(e.getMessage().contains("no region runner"), e.getMessage());
  }
}
