package dev.cmod.passes;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.sema.CompileOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The programs the pass tests run on: every model of every sample, one small model per stdlib
 * module (the module applied to an input of a fitting shape), and one of algebraic identities.
 */
final class Corpus {
  /** One model to compile: a file (sample) or a source text (stdlib module), and its name. */
  record Case(String label, Path file, String source, String model) {
    @Override
    public String toString() {
      return label;
    }

    Compilation.Result compile(CompileOptions o) {
      CompileOptions withModel = o.withModel(model);
      return file != null
          ? Compilation.compile(file, withModel)
          : Compilation.compile(new SourceFile(label + ".cmod", source), null, withModel);
    }
  }

  private Corpus() {}

  static List<Path> samples() {
    try (Stream<Path> s = Files.list(Path.of("."))) {
      List<Path> l = s.filter(p -> p.toString().endsWith(".cmod")).sorted().toList();
      assertTrue(l.size() >= 3, "expected the samples in the current folder, found " + l);
      return l;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static final String[][] STDLIB = {
    {"std.nn", "Linear", "input x: f32[seq, 6]\noutput y: f32[seq, 5] = x |> Linear(6, 5)"},
    {
      "std.nn",
      "Embedding",
      "input ids: Text[seq] vocab 20\noutput y: f32[seq, 8] = ids |> Embedding(20, 8)"
    },
    {"std.nn", "LayerNorm", "input x: f32[seq, 8]\noutput y: f32[seq, 8] = x |> LayerNorm(8)"},
    {"std.nn", "RMSNorm", "input x: f32[seq, 8]\noutput y: f32[seq, 8] = x |> RMSNorm(8)"},
    {"std.nn", "Mlp", "input x: f32[seq, 8]\noutput y: f32[seq, 8] = x |> Mlp(8, 16)"},
    {
      "std.nn",
      "MultiHeadAttention",
      "input x: f32[seq, 8]\noutput y: f32[seq, 8] = x |> MultiHeadAttention(8, 2, causal = true)"
    },
    {
      "std.nn",
      "TransformerBlock",
      "input x: f32[seq, 8]\noutput y: f32[seq, 8] = x |> TransformerBlock(8, 2, 16)"
    },
    {
      "std.nn",
      "Conv2d",
      "input img: Image[3, 9, 9]\noutput y: f32[4, 5, 5] = img |> Conv2d(3, 4, 3, stride = 2, padding = 1)"
    },
    {
      "std.nn",
      "PatchEmbed",
      "input img: Image[3, 8, 8]\noutput y: f32[4, 6] = img |> PatchEmbed(3, 4, 6)"
    },
    {
      "std.peft",
      "LoraLinear",
      "input x: f32[seq, 6]\noutput y: f32[seq, 5] = x |> LoraLinear(6, 5, 2)"
    },
    {"std.peft", "IA3Linear", "input x: f32[seq, 6]\noutput y: f32[seq, 5] = x |> IA3Linear(6, 5)"},
    {"std.peft", "Adapter", "input x: f32[seq, 8]\noutput y: f32[seq, 8] = x |> Adapter(8, 2)"},
    {
      "std.peft",
      "SoftPrompt",
      "input x: f32[seq, 8]\noutput y: f32[seq + 3, 8] = x |> SoftPrompt(3, 8)"
    },
    {
      "std.peft",
      "PrefixAttention",
      "input x: f32[seq, 8]\noutput y: f32[seq, 8] = x |> PrefixAttention(8, 2, 3)"
    },
    {"std.route", "MoE", "input x: f32[seq, 8]\noutput y: f32[seq, 8] = x |> MoE(8, 16, 4)"},
    {
      "std.route", "SoftMoE", "input x: f32[seq, 8]\noutput y: f32[seq, 8] = x |> SoftMoE(8, 16, 3)"
    },
  };

  /**
   * A model with one instance of every algebraic identity: the samples are written without them, so
   * without this program simplification would have nothing to do alone on an -O0 graph.
   */
  private static final String IDENTITIES =
      """
      model Identities {
        input x: f32[seq, 8]
        output y: f32[seq, 8] = (1.0 * x * 1.0 + 0.0) / 1.0 - 0.0
          |> transpose([0, 2, 1]) |> transpose([0, 2, 1])
          |> reshape([batch, 4, 2 * seq]) |> reshape([batch, seq, 8])
      }
      """;

  static List<Case> cases() {
    List<Case> all = new ArrayList<>();
    for (Path p : samples()) {
      Compilation.Result first = Compilation.compile(p, CompileOptions.defaults().withOptLevel(0));
      assertTrue(!first.models().isEmpty(), p + " has no models");
      for (String m : first.models()) {
        all.add(new Case(p.getFileName() + "#" + m, p, null, m));
      }
    }
    for (String[] s : STDLIB) {
      String source = "import " + s[0] + ".{" + s[1] + "}\nmodel M {\n" + s[2] + "\n}\n";
      all.add(new Case(s[0] + "." + s[1], null, source, null));
    }
    all.add(new Case("identities", null, IDENTITIES, null));
    return all;
  }
}
