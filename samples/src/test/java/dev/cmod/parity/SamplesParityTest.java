package dev.cmod.parity;

import dev.cmod.testkit.Need;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped samples ({@code samples/*.cmod}) against PyTorch reimplementations with the same
 * parameter paths.
 */
@Requires(Need.TORCH)
class SamplesParityTest {
  @TempDir static Path out;

  @BeforeAll
  static void generate() {
    PyParity.PARITY.generate(out, "image_classifier", "text_transformer", "audio_keyword");
  }

  private static void check(String name) {
    PyParity.PARITY.check(
        name, PyParity.root().resolve("samples/" + name + ".cmod"), out.resolve(name));
  }

  @Test
  void imageClassifier() {
    check("image_classifier");
  }

  @Test
  void textTransformer() {
    check("text_transformer");
  }

  @Test
  void audioKeyword() {
    check("audio_keyword");
  }
}
