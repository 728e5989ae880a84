package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every composition form compiles, and ONNX Runtime agrees with the reference interpreter at -O0
 * and -O2 on random inputs at two sequence lengths, with every parameter set to random values
 * through --weights (factors that start at zero would otherwise hide the composition).
 */
class CompositionsTest {
  private static final String HEAD =
      "import std.nn.{Mlp, TransformerBlock, MultiHeadAttention, Linear}\n"
          + "import std.route.{MoE}\nimport std.peft.{PrefixAttention, HyperLinear}\nmodel C {\n  input x: f32[seq, 16]\n  input task: Vector[8]\n  input lang: Class[2]\n";

  static Stream<Arguments> programs() {
    return Stream.of(
        Arguments.of(
            "lora",
            "let b = Mlp(16, 32)\n  let t = b with lora(rank = 2, alpha = 4) on \"up\", \"down\"\n  output y: f32[seq, 16] = t(x)"),
        Arguments.of(
            "ia3",
            "let b = Mlp(16, 32)\n  let t = b with ia3 on \"up\"\n  output y: f32[seq, 16] = t(x)"),
        Arguments.of(
            "adapter after",
            "let b = TransformerBlock(16, 2)\n  let t = b with adapter(bottleneck = 4) on \"ffn\"\n  output y: f32[seq, 16] = t(x)"),
        Arguments.of(
            "adapter parallel",
            "let b = TransformerBlock(16, 2)\n  let t = b with adapter(bottleneck = 4, at = parallel) on \"attn\"\n  output y: f32[seq, 16] = t(x)"),
        Arguments.of(
            "prefix",
            "let b = TransformerBlock(16, 2)\n  let t = b with prefix(length = 3) on \"attn\"\n  output y: f32[seq, 16] = t(x)"),
        Arguments.of(
            "prefix causal",
            "let b = TransformerBlock(16, 2, causal = true)\n  let t = b with prefix(length = 3) on \"attn\"\n  output y: f32[seq, 16] = t(x)"),
        Arguments.of(
            "prompt",
            "let b = TransformerBlock(16, 2)\n  let t = b with prompt(length = 2)\n  output y = t(x)"),
        Arguments.of(
            "hyper",
            "let b = Mlp(16, 32)\n  let t = b with lora(rank = 2) on \"up\" from hyper(task)\n  output y: f32[seq, 16] = t(x)"),
        Arguments.of(
            "hub blocks",
            "let b = TransformerBlock(16, 2)\n  let de = b with adapter(bottleneck = 4, name = \"de\") on \"ffn\"\n"
                + "  let ner = b with adapter(bottleneck = 4, name = \"ner\") on \"ffn\"\n  output s: f32[seq, 16] = (b with stack(de, ner))(x)\n"
                + "  output p: f32[seq, 16] = (b with parallel(de, ner))(x)\n  output a: f32[seq, 16] = (b with average(de, ner))(x)"),
        Arguments.of(
            "hub fuse and split",
            "let b = TransformerBlock(16, 2)\n  let de = b with adapter(bottleneck = 4, name = \"de\") on \"ffn\"\n"
                + "  let ner = b with adapter(bottleneck = 4, name = \"ner\") on \"ffn\"\n  output f: f32[seq, 16] = (b with fuse(de, ner))(x)\n"
                + "  output s: f32[seq, 16] = (b with split(de, ner, at = 2))(x)"),
        Arguments.of(
            "fuse",
            "let a = Mlp(16, 32)\n  let b = Mlp(16, 32)\n  output y: f32[seq, 16] = fuse(x, [a, b])"),
        Arguments.of(
            "route topk",
            "let e = repeat(4) Mlp(16, 32)\n  output y: f32[seq, 16] = route x to e by topk(2)"),
        Arguments.of(
            "route index",
            "output y: f32[seq, 16] = route x to [Linear(16, 16), Linear(16, 16)] by index(lang)"),
        Arguments.of(
            "std.peft PrefixAttention",
            "let a = PrefixAttention(16, 2, 3)\n  output y: f32[seq, 16] = a(x)"),
        Arguments.of(
            "std.peft HyperLinear",
            "let h = HyperLinear(16, 8, 8, 2)\n  output y: f32[seq, 8] = h(x, task)"),
        Arguments.of("moe", "let m = MoE(16, 32, 4)\n  output y: f32[seq, 16] = m(x)"));
  }

  @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir;

  /**
   * Every parameter random (factors initialized at zero would hide the compositions), as a weights
   * file.
   */
  private java.nio.file.Path randomWeights(String src) {
    E2E.Built b = E2E.compileText(src, E2E.opts(0));
    java.util.Random rng = new java.util.Random(5);
    Map<String, Tensor> w = new java.util.TreeMap<>();
    for (dev.cmod.ir.graph.Node n : b.graph().nodes()) {
      if (n.op() == dev.cmod.ir.graph.Op.PARAM) {
        Tensor t = n.attrs().getTensor("value");
        float[] f = new float[t.size()];
        for (int i = 0; i < f.length; i++) {
          f[i] = (float) (rng.nextGaussian() * 0.3);
        }
        w.put(n.attrs().getString("path"), Tensor.ofFloats(t.shape(), f));
      }
    }
    java.nio.file.Path p = dir.resolve("w.safetensors");
    dev.cmod.ir.io.Safetensors.write(p, w, Map.of());
    return p;
  }

  @org.junit.jupiter.api.Test
  void controlNetConditioning() {
    String src =
        """
        import std.nn.{Conv2d, Mlp}
        model Gen {
          input noise: Image[3, 8, 8]
          input edges: Image[1, 8, 8]
          input text: Seq[seq, 8]
          input hint: Seq[seq, 4]
          let gen = Conv2d(3, 3, 3, padding = 1)
          condition gen on edges via control(strength = 0.5)
          let mlp = Mlp(8)
          condition mlp on hint via control()
          output image: Image[3, 8, 8] = gen(noise)
          output y: f32[seq, 8] = mlp(text)
        }
        """;
    java.nio.file.Path weights = randomWeights(src);
    for (int level : new int[] {0, 2}) {
      E2E.Built b =
          E2E.compileText(
              src,
              dev.cmod.compiler.sema.CompileOptions.defaults()
                  .withWeightsFile(weights)
                  .withOptLevel(level));
      Map<String, Tensor> in = E2E.inputs(b, Map.of("batch", 2L, "seq", 5L), 3);
      Map<String, Tensor> out = E2E.assertOrtMatchesInterpreter(b, in, 1e-4, 1e-5);
      // a fresh (zero) control branch changes nothing: compare with the unconditioned model
      E2E.Built fresh = E2E.compileText(src, E2E.opts(level));
      E2E.Built plain =
          E2E.compileText(
              src.replace("condition gen on edges via control(strength = 0.5)", "")
                  .replace("condition mlp on hint via control()", ""),
              E2E.opts(level));
      Map<String, Tensor> a = E2E.runOrt(fresh.onnx(), in);
      Map<String, Tensor> p =
          E2E.runOrt(
              plain.onnx(),
              Map.of(
                  "noise",
                  in.get("noise"),
                  "text",
                  in.get("text"),
                  "edges",
                  in.get("edges"),
                  "hint",
                  in.get("hint")));
      E2E.assertClose(p.get("image"), a.get("image"), 0, 0, "fresh control on an image");
      E2E.assertClose(p.get("y"), a.get("y"), 0, 0, "fresh control on a sequence");
      assertTrue(out.containsKey("image"));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("programs")
  void ortMatchesInterpreter(String name, String body) {
    String src = HEAD + "  " + body + "\n}\n";
    java.nio.file.Path weights = randomWeights(src);
    for (int level : new int[] {0, 2}) {
      E2E.Built b =
          E2E.compileText(
              src,
              dev.cmod.compiler.sema.CompileOptions.defaults()
                  .withWeightsFile(weights)
                  .withSeed(7)
                  .withOptLevel(level));
      for (long seq : new long[] {3, 9}) {
        Map<String, Tensor> in = E2E.inputs(b, Map.of("batch", 2L, "seq", seq), 11);
        Map<String, Tensor> out = E2E.assertOrtMatchesInterpreter(b, in, 1e-4, 1e-5);
        assertTrue(!out.isEmpty());
        assertArrayEquals(
            new long[] {2},
            new long[] {out.values().iterator().next().shape()[0]},
            name + ": batch");
      }
    }
  }
}
