package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.Requires;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The samples of {@code samples/hf/}: a BERT-style and a ViT-style encoder written with std.nn
 * whose weights come from Hugging Face-named checkpoints. {@code make_checkpoints.py} builds the
 * two models in PyTorch with transformers' attribute names and saves their state dicts; each
 * sample, copied beside them, compiles at -O0 and -O2 and equals PyTorch's output on ONNX Runtime.
 */
@Requires(Need.TORCH)
class HfSamplesTest {
  @TempDir static Path dir;

  @BeforeAll
  static void writeCheckpoints() throws Exception {
    Path script = Need.root().resolve("samples/hf/make_checkpoints.py");
    Need.runPython(
        dir,
        "import sys; sys.argv = ['make_checkpoints.py', 'models', '--reference', 'ref']\n"
            + Files.readString(script));
    for (String s : new String[] {"bert_encoder.cmod", "vit_encoder.cmod"}) {
      Files.copy(Need.root().resolve("samples/hf").resolve(s), dir.resolve(s));
    }
  }

  @Test
  void bertStyleEncoderEqualsPyTorch() {
    check("bert_encoder.cmod", "ids", "bert_ids.npy", "bert_hidden.npy");
  }

  @Test
  void vitStyleEncoderEqualsPyTorch() {
    check("vit_encoder.cmod", "image", "vit_image.npy", "vit_hidden.npy");
  }

  /** Without the skip, the pooler's keys are left unused: an error naming them, not silence. */
  @Test
  void anUnusedCheckpointKeyIsAnError() throws Exception {
    Path f = dir.resolve("bert_no_skip.cmod");
    Files.writeString(
        f,
        Files.readString(dir.resolve("bert_encoder.cmod")).replace(", skip = [\"pooler.**\"]", ""));
    Compilation.Result r = Compilation.compile(f, E2E.opts(0));
    assertFalse(r.ok());
    assertTrue(
        r.diagnostics().all().stream()
            .anyMatch(
                d ->
                    d.code() == DiagnosticCode.KEY_UNMATCHED
                        && d.message().contains("pooler.dense.weight")),
        dev.cmod.testkit.PyParity.render(r));
  }

  private static void check(String sample, String input, String in, String out) {
    Tensor x = Npy.read(dir.resolve("ref").resolve(in));
    Tensor want = Npy.read(dir.resolve("ref").resolve(out));
    for (int level : new int[] {0, 2}) {
      E2E.Built b = E2E.compileFile(dir.resolve(sample), E2E.opts(level));
      Map<String, Tensor> got = E2E.runOrt(b.onnx(), Map.of(input, x));
      E2E.assertClose(want, got.get("hidden"), 0, 1e-4, sample + " at -O" + level);
    }
  }
}
