package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.Cost;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * auto(...): the synthesized architecture compiles, respects the budget, runs on ONNX Runtime in
 * agreement with the interpreter, and has the declared output shape, for the four shapes of model
 * of seed 004 (fan-in, U, straight, fan-out).
 */
class AutoTest {
  static Stream<Arguments> models() {
    return Stream.of(
        Arguments.of(
            "fan-in",
            "compute tiny\n  input image: Image[3, 32, 32]\n  output label: Class[10] = auto(image)",
            new long[] {2, 10}),
        Arguments.of(
            "U",
            "compute tiny\n  input caption: Text[seq] vocab 100 where seq <= 16\n  output tags: f32[seq, 5] = auto(caption)",
            new long[] {2, 7, 5}),
        Arguments.of(
            "straight",
            "compute tiny\n  input v: Vector[12]\n  input c: Class[4]\n  output w: Vector[6] = auto(v, c)",
            new long[] {2, 6}),
        Arguments.of(
            "fan-out",
            "compute tiny\n  input c: Class[4]\n  output image: Image[3, 16, 16] = auto(c)",
            new long[] {2, 3, 16, 16}),
        Arguments.of(
            "audio in",
            "compute tiny\n  input a: Audio[800]\n  output k: Class[3] = auto(a)",
            new long[] {2, 3}),
        Arguments.of(
            "video in",
            "compute tiny\n  input v: Video[4, 3, 16, 16]\n  output k: Class[3] = auto(v)",
            new long[] {2, 3}));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void synthesizesRunnableModels(String name, String body, long[] shape) {
    String src = "model M {\n  " + body + "\n}\n";
    E2E.Built b = E2E.compileText(src, E2E.opts(2));
    assertFalse(b.result().facts().auto().isEmpty(), "auto notes recorded");
    assertTrue(Cost.params(b.graph()).total() <= 1_000_000, "compute tiny caps parameters at 1M");
    Map<String, Tensor> in = E2E.inputs(b, Map.of("batch", 2L, "seq", 7L), 1);
    Map<String, Tensor> out = E2E.assertOrtMatchesInterpreter(b, in, 1e-4, 1e-5);
    assertArrayEquals(shape, out.values().iterator().next().shape(), name);
  }

  @Test
  void theLanguageExampleFitsItsBudget() {
    String src =
        """
        model AnimalSound {
          compute medium
          budget { params <= 40M, flops <= 3G, tokens <= 1024 }
          input image:   Image[3, 256, 256]
          input caption: Text[seq] vocab 8000 where seq <= 64
          input species: Class[50]
          output sound:  Audio[16000] = auto(image, caption, species)
        }
        """;
    E2E.Built b = E2E.compileText(src, E2E.opts(2));
    assertTrue(Cost.params(b.graph()).total() <= 40_000_000);
    assertTrue(Cost.flops(b.graph(), b.result().facts()) <= 3e9);
    Map<String, Tensor> out =
        E2E.runOrt(b.onnx(), E2E.inputs(b, Map.of("batch", 1L, "seq", 10L), 2));
    assertArrayEquals(new long[] {1, 16000}, out.get("sound").shape());
  }

  @Test
  void unboundedTextAndIntegerOutputsAreDiagnosed() {
    Compilation.Result r =
        Compilation.compile(
            new SourceFile(
                "t.cmod",
                "model M {\n  input t: Text[seq] vocab 10\n  output k: Class[3] = auto(t)\n}\n"),
            null,
            E2E.opts(0));
    assertTrue(
        r.diagnostics().all().stream().anyMatch(d -> d.message().contains("upper bound")),
        r.diagnostics().all().toString());
    r =
        Compilation.compile(
            new SourceFile(
                "t.cmod",
                "model M {\n  input v: Vector[4]\n  output t: Text[8] vocab 10 = auto(v)\n}\n"),
            null,
            E2E.opts(0));
    assertTrue(r.diagnostics().hasErrors());
  }
}
