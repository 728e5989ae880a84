package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cmod run --input NAME=FILE} with real files: pictures and clips decoded for the input's
 * type (one file, a pattern and a folder as batches), equal to PIL's and Python's decoding of the
 * same files; sizes that do not fit, and text without a tokenizer, are clear errors.
 */
class MediaInputsTest extends CommandLineHarness {
  @TempDir Path dir;

  private static final String MODEL =
      """
      model Echo {
        input img: Image[3, 5, 7]
        input clip: Audio[50]
        output pixels: f32[3, 5, 7] = img * 1.0
        output samples: f32[50] = clip * 1.0
      }
      """;

  private void python(String script) throws Exception {
    Need.runPython(dir, script);
  }

  @Test
  void picturesAndClipsFeedTheModelAsPythonDecodesThem() throws Exception {
    Need.PIL.require();
    Files.createDirectories(dir.resolve("photos"));
    python(
        """
        import numpy as np, wave
        from PIL import Image
        rng = np.random.default_rng(11)
        refs = []
        for i in range(2):
            a = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
            Image.fromarray(a, 'RGB').save('photos/p%d.png' % i)
            refs.append(a.transpose(2, 0, 1).astype(np.float32) / 255)
        np.save('photos.npy', np.stack(refs))
        x = rng.integers(-32768, 32767, (50, 2)).astype('<i2')
        w = wave.open('clip.wav', 'wb'); w.setnchannels(2); w.setsampwidth(2)
        w.setframerate(16000); w.writeframes(x.tobytes()); w.close()
        np.save('clip.npy', (x.astype(np.float64) / 32768).mean(axis=1)[None].astype(np.float32))
        """);
    Path src = dir.resolve("echo.cmod");
    Files.writeString(src, MODEL);
    Tensor photos = Npy.read(dir.resolve("photos.npy"));
    Tensor clip = Npy.read(dir.resolve("clip.npy"));
    for (String img :
        new String[] {dir.resolve("photos") + "/*.png", dir.resolve("photos").toString()}) {
      Path out = dir.resolve("out" + img.length());
      int rc =
          run(
              "run",
              src.toString(),
              "--input",
              "img=" + img,
              "--input",
              "clip=" + dir.resolve("clip.wav"),
              "--output-dir",
              out.toString());
      assertEquals(1, rc, "two pictures but one clip: the batch sizes differ");
      assertTrue(err().contains("batch"), err());
    }
    Path out = dir.resolve("out");
    int rc =
        run(
            "run",
            src.toString(),
            "--input",
            "img=" + dir.resolve("photos/p0.png"),
            "--input",
            "clip=" + dir.resolve("clip.wav"),
            "--output-dir",
            out.toString());
    assertEquals(0, rc, err());
    Tensor pixels = Npy.read(out.resolve("pixels.npy"));
    assertArrayEquals(new long[] {1, 3, 5, 7}, pixels.shape());
    float[] first = java.util.Arrays.copyOf(photos.floats(), 3 * 5 * 7);
    assertArrayEquals(first, pixels.floats(), 1e-6f);
    assertArrayEquals(clip.floats(), Npy.read(out.resolve("samples.npy")).floats(), 1e-6f);
  }

  @Test
  void aPatternOrAFolderIsABatch() throws Exception {
    Need.PIL.require();
    Files.createDirectories(dir.resolve("photos"));
    python(
        """
        import numpy as np
        from PIL import Image
        rng = np.random.default_rng(5)
        refs = []
        for i in range(3):
            a = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
            Image.fromarray(a, 'RGB').save('photos/p%d.png' % i)
            refs.append(a.transpose(2, 0, 1).astype(np.float32) / 255)
        np.save('photos.npy', np.stack(refs))
        """);
    Path src = dir.resolve("pix.cmod");
    Files.writeString(
        src, "model Pix {\n  input img: Image[3, 5, 7]\n  output p: f32[3, 5, 7] = img * 1.0\n}\n");
    Tensor want = Npy.read(dir.resolve("photos.npy"));
    int k = 0;
    for (String img :
        new String[] {dir.resolve("photos") + "/p*.png", dir.resolve("photos").toString()}) {
      Path out = dir.resolve("o" + k++);
      assertEquals(
          0,
          run("run", src.toString(), "--input", "img=" + img, "--output-dir", out.toString()),
          err());
      Tensor got = Npy.read(out.resolve("p.npy"));
      assertArrayEquals(new long[] {3, 3, 5, 7}, got.shape());
      assertArrayEquals(want.floats(), got.floats(), 1e-6f);
    }
  }

  @Test
  void filesThatDoNotFitAndTextWithoutATokenizerAreErrors() throws Exception {
    Need.PIL.require();
    python(
        """
        import numpy as np
        from PIL import Image
        Image.fromarray(np.zeros((6, 7, 3), dtype=np.uint8), 'RGB').save('big.png')
        """);
    Path src = dir.resolve("pix.cmod");
    Files.writeString(
        src,
        "model Pix {\n  input img: Image[3, 5, 7]\n  input words: Text[4] vocab 100\n"
            + "  output p: f32[3, 5, 7] = img * 1.0\n  output w: i64[4] = words\n}\n");
    assertEquals(
        1,
        run(
            "run",
            src.toString(),
            "--input",
            "img=" + dir.resolve("big.png"),
            "--input",
            "words=" + dir.resolve("w.npy")));
    assertTrue(err().contains("error[CM0401]") || err().contains("error[CM04"), err());
    assertTrue(err().contains("the image is 7 × 6 pixels, the input takes [3, 5, 7]"), err());
    assertEquals(1, run("run", src.toString(), "--input", "words=a cat on a mat"));
    assertTrue(err().contains("text needs a tokenizer"), err());
  }
}
