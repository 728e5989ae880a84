package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.pass.Pipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pass-manager flags on every sample: they print to stderr only (stdout and the artifact stay
 * as without them), disabling every pass gives the -O0 graph, and explain --passes accounts for
 * each model.
 */
class PassFlagsTest extends CommandLineHarness {
  @TempDir Path dir;

  static Stream<Path> samples() throws Exception {
    try (Stream<Path> s = Files.list(Path.of("../samples"))) {
      List<Path> l = s.filter(p -> p.toString().endsWith(".cmod")).sorted().toList();
      assertTrue(l.size() >= 3, "expected the samples in ../samples, found " + l);
      return l.stream();
    }
  }

  /** Compiles with extra flags; returns the artifact, checking stdout equals the plain run's. */
  private byte[] compile(Path sample, String plainOut, String... flags) throws Exception {
    Path target = dir.resolve("plain.onnx");
    List<String> args =
        new ArrayList<>(List.of("compile", sample.toString(), "-o", target.toString()));
    args.addAll(List.of(flags));
    assertEquals(0, run(args.toArray(String[]::new)), String.join(" ", flags) + ": " + err());
    if (plainOut != null) {
      assertEquals(plainOut, out(), "stdout with " + String.join(" ", flags));
    }
    return Files.readAllBytes(target);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void flagsPrintToStderrAndKeepTheArtifact(Path sample) throws Exception {
    byte[] plain = compile(sample, null);
    String plainOut = out();
    assertEquals("", err());

    assertArrayEquals(plain, compile(sample, plainOut, "--print-ir-after=all"));
    for (String pass : Pipeline.knownPasses()) {
      assertTrue(err().contains(" after " + pass + " (round 1"), pass + " not printed:\n" + err());
    }
    assertTrue(err().contains("output \""), "IR text on stderr");

    assertArrayEquals(plain, compile(sample, plainOut, "--print-ir-after=cse"));
    assertTrue(err().contains(" after cse (round 1"));
    assertFalse(err().contains(" after simplify "), "only the named pass");

    assertArrayEquals(plain, compile(sample, plainOut, "--pass-stats"));
    assertTrue(err().startsWith("pass statistics for "), err());
    for (String pass : Pipeline.knownPasses()) {
      assertTrue(err().contains("\n  " + pass + " "), pass + " missing from:\n" + err());
    }

    assertArrayEquals(plain, compile(sample, plainOut, "--verify-each"));
    assertEquals("", err());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void disablingEveryPassGivesTheO0Graph(Path sample) {
    assertEquals(0, run("graph", "--format", "text", "-O0", sample.toString()), err());
    String o0 = out();
    List<String> args = new ArrayList<>(List.of("graph", "--format", "text", sample.toString()));
    List<String> optional = new ArrayList<>(Pipeline.knownPasses());
    optional.removeAll(Pipeline.requiredPasses());
    for (String pass : optional) {
      args.add("--disable-pass=" + pass);
    }
    assertEquals(0, run(args.toArray(String[]::new)), err());
    assertEquals(o0, out());
    for (String pass : optional) {
      assertEquals(
          0, run("graph", "--format", "text", "--disable-pass", pass, sample.toString()), err());
    }
    for (String pass : Pipeline.requiredPasses()) {
      assertEquals(
          2, run("graph", "--format", "text", "--disable-pass", pass, sample.toString()), err());
      assertTrue(err().contains("pass '" + pass + "' cannot be disabled"), err());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void explainPassesAccountsForEveryModel(Path sample) {
    assertEquals(0, run("check", sample.toString()), err());
    String models = out().replaceAll("(?s).*\\((.*)\\)\\s*", "$1");
    assertEquals(0, run("explain", "--passes", sample.toString()), err());
    for (String m : models.split(", ")) {
      assertTrue(out().contains("model " + m + ": -O2:\n"), m + " missing from:\n" + out());
    }
    assertTrue(out().contains("what changed:\n"));
    assertTrue(out().contains("pass runs changed nothing"), out());
    assertEquals(0, run("explain", "--passes", "-O1", sample.toString()), err());
    assertTrue(out().contains(": -O1:\n  lower-routing: "), out());
    assertTrue(out().contains("\n  dce: "), out());
  }

  /**
   * explain --passes says how each route was evaluated and why. moe_soft: a soft route (dense) and
   * a top-1 route over the same experts, whose dense outputs the soft route needs anyway (dense
   * too); moe_lora_topk: a top-2 route the cost model makes sparse at -O2. -O1 keeps routes dense.
   */
  @Test
  void explainSaysWhichRoutesAreSparseAndWhy() {
    String soft = "../samples/src/test/resources/peft/moe_soft.cmod";
    assertEquals(0, run("explain", "--passes", "-O2", soft), err());
    assertTrue(out().contains("  sparse-routing (round 1): no change\n"), out());
    assertTrue(
        out().contains(":7:31: dense (soft gates weight every expert on every token)"), out());
    assertTrue(
        out().contains(":8:31: dense (expert 0's output is also computed on every token outside"),
        out());
    String topk = "../samples/src/test/resources/peft/moe_lora_topk.cmod";
    assertEquals(0, run("explain", "--passes", "-O2", topk), err());
    assertTrue(
        out()
            .contains(
                ":11:28: sparse dispatch, top-2 of 4 experts at 64 tokens per example (token"
                    + " count symbolic, costed at 64): est. "),
        out());
    // the model report at -O2 says the routing is sparse; as declared (-O0) it says nothing
    assertEquals(0, run("explain", "-O2", topk), err());
    assertTrue(out().contains("\n  routing: sparse dispatch to 4 experts (each runs on"), out());
    assertEquals(0, run("explain", topk), err());
    assertFalse(out().contains("routing:"), out());
    assertEquals(0, run("explain", "--passes", "-O1", topk), err());
    assertFalse(out().contains("sparse dispatch"), out());
    assertFalse(out().contains("sparse-routing ("), out());
    // the dense -O2 artifact on request
    assertEquals(0, run("graph", "--format", "text", "--disable-pass=sparse-routing", topk), err());
    assertFalse(out().contains("nonzero"), out());
    assertEquals(0, run("graph", "--format", "text", topk), err());
    assertTrue(out().contains("nonzero"), out());
  }

  @Test
  void unknownPassNamesAreUsageErrorsListingTheKnownOnes() {
    Path sample = Path.of("../samples/image_classifier.cmod");
    assertEquals(2, run("compile", sample.toString(), "--disable-pass=fold"));
    assertTrue(
        err()
            .contains(
                "unknown pass 'fold'; the passes are sparse-routing, lower-routing, dce, cse"),
        err());
    assertEquals(2, run("graph", sample.toString(), "--print-ir-after=nope"));
    assertTrue(err().contains("unknown pass 'nope'"), err());
    assertEquals(2, run("explain", "--passes", sample.toString(), "--disable-pass=x"));
  }
}
