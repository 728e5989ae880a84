package dev.cmod.parity;

import dev.cmod.testkit.Need;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each std.nn module in a tiny model ({@code src/test/resources/parity/<case>.cmod}) against its
 * PyTorch equivalent (nn.Linear, nn.Embedding, nn.LayerNorm, an RMSNorm, Linear-GELU-Linear,
 * nn.MultiheadAttention, pre-norm nn.TransformerEncoderLayer, nn.Conv2d, a strided-conv patch
 * embedding) with the same random weights, at -O0 and -O2 on ONNX Runtime.
 */
@Requires(Need.TORCH)
class StdNnParityTest {
  static final String[] CASES = {
    "linear",
    "embedding",
    "layernorm",
    "rmsnorm",
    "mlp",
    "mha",
    "transformer_block",
    "conv2d",
    "patch_embed"
  };

  @TempDir static Path out;

  @BeforeAll
  static void generate() {
    PyParity.PARITY.generate(out, CASES);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "linear",
        "embedding",
        "layernorm",
        "rmsnorm",
        "mlp",
        "mha",
        "transformer_block",
        "conv2d",
        "patch_embed"
      })
  void matchesPyTorch(String name) {
    PyParity.PARITY.checkCase(name, out);
  }
}
