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
 * Inputs declared with codecs, end to end: {@code .cmod} source with {@code from image(...)} or
 * {@code from wav(...)}, compiled, run by ONNX Runtime through {@code cmod run} on real files, the
 * tensor the model's body sees compared with the same preprocessing written in Python (PIL's
 * resampling on float images, torchvision's resize and crop rules, numpy normalization, SciPy's
 * {@code resample_poly}) to 1e-5; the codec read back from the compiled artifact gives the same
 * numbers; bad files are located errors.
 */
class CodecRunTest extends CommandLineHarness {
  @TempDir Path dir;

  @Test
  void anImageIsResizedCroppedAndNormalizedAsTorchvisionDoesIt() throws Exception {
    Need.PIL.require();
    Need.runPython(
        dir,
        """
        import numpy as np
        from PIL import Image
        rng = np.random.default_rng(3)
        a = rng.integers(0, 256, (37, 50, 3), dtype=np.uint8)
        Image.fromarray(a, 'RGB').save('photo.png')
        # torchvision: Resize(24) on the shorter side, CenterCrop(20), Normalize(mean, std)
        h, w = 37, 50
        nh, nw = 24, int(24 * w / h)
        planes = []
        for c in range(3):
            f = Image.fromarray(a[:, :, c].astype(np.float32) / 255, 'F')
            planes.append(np.asarray(f.resize((nw, nh), Image.BILINEAR)))
        x = np.stack(planes)
        top, left = int(round((nh - 20) / 2)), int(round((nw - 20) / 2))
        x = x[:, top:top + 20, left:left + 20]
        mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
        std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
        np.save('want.npy', ((x - mean) / std)[None].astype(np.float32))
        """);
    Path src = dir.resolve("m.cmod");
    Files.writeString(
        src,
        """
        model M {
          input photo: Image[3, 20, 20] from image(resize = 24, crop = 20,
              mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225])
          output seen: f32[3, 20, 20] = photo
        }
        """);
    Tensor want = Npy.read(dir.resolve("want.npy"));
    Path out = dir.resolve("out");
    assertEquals(
        0,
        run(
            "run",
            src.toString(),
            "--input",
            "photo=" + dir.resolve("photo.png"),
            "--output-dir",
            out.toString()),
        err());
    Tensor got = Npy.read(out.resolve("seen.npy"));
    assertArrayEquals(want.shape(), got.shape());
    assertArrayEquals(want.floats(), got.floats(), 1e-5f);
    // the artifact carries the codec: running the .onnx file reads it back
    Path onnx = dir.resolve("m.onnx");
    assertEquals(0, run("compile", src.toString(), "-o", onnx.toString()), err());
    Path out2 = dir.resolve("out2");
    assertEquals(
        0,
        run(
            "run",
            onnx.toString(),
            "--input",
            "photo=" + dir.resolve("photo.png"),
            "--output-dir",
            out2.toString()),
        err());
    assertArrayEquals(got.floats(), Npy.read(out2.resolve("seen.npy")).floats(), 0f);
  }

  @Test
  void textLinesOfDifferentWidthsArePaddedToTheWidestInTheModelsValues() throws Exception {
    Need.PIL.require();
    Files.createDirectories(dir.resolve("lines"));
    Need.runPython(
        dir,
        """
        import math, numpy as np
        from PIL import Image
        rng = np.random.default_rng(4)
        out = []
        sizes = [(10, 31), (16, 20)]
        for i, (h, w) in enumerate(sizes):
            a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            Image.fromarray(a, 'RGB').save('lines/l%d.png' % i)
            nw = min(math.ceil(8 * w / h), 40)
            planes = [np.asarray(Image.fromarray(a[:, :, c].astype(np.float32) / 255, 'F')
                                 .resize((nw, 8), Image.BILINEAR)) for c in (2, 1, 0)]
            out.append((np.stack(planes) - 0.5) / 0.5)
        wide = max(x.shape[2] for x in out)
        batch = np.zeros((2, 3, 8, wide), np.float32)  # padded with 0 in the model's values
        for i, x in enumerate(out):
            batch[i, :, :, :x.shape[2]] = x
        np.save('want.npy', batch)
        """);
    Path src = dir.resolve("ocr.cmod");
    Files.writeString(
        src,
        """
        model Lines {
          input line: Image[3, 8, width] from image(height = 8, max_width = 40, order = "bgr",
              mean = 0.5, std = 0.5)
          output seen: f32[3, 8, width] = line
        }
        """);
    Path out = dir.resolve("out");
    assertEquals(
        0,
        run(
            "run",
            src.toString(),
            "--input",
            "line=" + dir.resolve("lines"),
            "--output-dir",
            out.toString()),
        err());
    Tensor want = Npy.read(dir.resolve("want.npy"));
    Tensor got = Npy.read(out.resolve("seen.npy"));
    assertArrayEquals(want.shape(), got.shape());
    assertArrayEquals(want.floats(), got.floats(), 1e-5f);
  }

  @Test
  void aClipIsMixedResampledAndCutIntoChunksAsScipyDoesIt() throws Exception {
    Need.SCIPY.require();
    Need.runPython(
        dir,
        """
        import numpy as np, wave
        from scipy.signal import resample_poly
        rng = np.random.default_rng(8)
        x = rng.integers(-30000, 30000, (3001, 2)).astype('<i2')
        w = wave.open('clip.wav', 'wb'); w.setnchannels(2); w.setsampwidth(2)
        w.setframerate(8000); w.writeframes(x.tobytes()); w.close()
        mono = (x.astype(np.float64) / 32768).mean(axis=1)
        y = resample_poly(mono, 2, 1)
        n = 1 + int(np.ceil(max(0, len(y) - 1000) / 600))
        chunks = np.zeros((n, 1000))
        for k in range(n):
            part = y[k * 600:k * 600 + 1000]
            chunks[k, :len(part)] = part
        np.save('chunks.npy', chunks.astype(np.float32))
        fit = np.zeros(8000); fit[:min(8000, len(y))] = y[:8000]
        np.save('fit.npy', fit[None].astype(np.float32))
        """);
    Path src = dir.resolve("a.cmod");
    Files.writeString(
        src,
        """
        model Chunks {
          input clip: Audio[1000] from wav(rate = 16000, chunk = true, hop = 600)
          output seen: f32[1000] = clip
        }
        model Fit {
          input clip: Audio[8000] from wav(rate = 16000)
          output seen: f32[8000] = clip
        }
        """);
    for (String m : new String[] {"Chunks", "Fit"}) {
      Path out = dir.resolve("out" + m);
      assertEquals(
          0,
          run(
              "run",
              src.toString(),
              "--model",
              m,
              "--input",
              "clip=" + dir.resolve("clip.wav"),
              "--output-dir",
              out.toString()),
          err());
      Tensor want = Npy.read(dir.resolve(m.equals("Chunks") ? "chunks.npy" : "fit.npy"));
      Tensor got = Npy.read(out.resolve("seen.npy"));
      assertArrayEquals(want.shape(), got.shape());
      assertArrayEquals(want.floats(), got.floats(), 1e-5f);
    }
  }

  @Test
  void filesThatDoNotDecodeAreLocatedErrors() throws Exception {
    Path src = dir.resolve("m.cmod");
    Files.writeString(
        src,
        """
        model M {
          input photo: Image[3, 8, 8] from image(resize = [8, 8])
          input clip: Audio[100] from wav(rate = 16000, fit = "exact")
          output a: f32[3, 8, 8] = photo
          output b: f32[100] = clip
        }
        """);
    Files.write(dir.resolve("bad.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2});
    Files.write(dir.resolve("bad.wav"), "RIFF....WAVEjunk".getBytes());
    assertEquals(
        1,
        run(
            "run",
            src.toString(),
            "--input",
            "photo=" + dir.resolve("bad.png"),
            "--input",
            "clip=" + dir.resolve("bad.wav")));
    assertTrue(err().contains("error[CM0701]") && err().contains("photo"), err());
    assertTrue(!err().contains("Exception"), err());
  }

  @Test
  void labelsGoInAsIndicesAndScoresComeOutAsRankedLabels() throws Exception {
    Files.writeString(dir.resolve("species.txt"), "cat\ndog\ngolden retriever\n");
    Path src = dir.resolve("l.cmod");
    Files.writeString(
        src,
        """
        model Echo {
          input species: Class[3] from labels("species.txt")
          output kind: f32[3] to labels("species.txt", top = 2) = one_hot(species, 3) * 2.0
        }
        """);
    Path out = dir.resolve("out");
    int rc =
        run(
            "run",
            src.toString(),
            "--input",
            "species=golden retriever",
            "--input",
            "species=cat",
            "--output-dir",
            out.toString());
    assertEquals(0, rc, err());
    // softmax of [0, 0, 2] is [0.1065, 0.1065, 0.7870]: the chosen class first, then class order
    assertTrue(out().contains("golden retriever 0.7870, cat 0.1065"), out());
    assertTrue(out().contains("cat 0.7870, dog 0.1065"), out());
    // the ranking is in the artifact too: softmax and top 2 as two more outputs
    assertArrayEquals(
        new long[] {2, 0, 0, 1}, Npy.read(out.resolve("kind_top_indices.npy")).longs());
    assertArrayEquals(
        new float[] {0.78699f, 0.10650f, 0.78699f, 0.10650f},
        Npy.read(out.resolve("kind_top_scores.npy")).floats(),
        1e-5f);
    String json = Files.readString(out.resolve("kind.json"));
    assertTrue(
        json.contains("\"label\": \"golden retriever\"")
            || json.contains("\"label\":\"golden retriever\""),
        json);
    assertEquals(1, run("run", src.toString(), "--input", "species=goldfish"));
    assertTrue(err().contains("error[CM0701]") && err().contains("goldfish"), err());
  }

  @Test
  void anArtifactRefusesALabelFileThatChangedSinceCompilation() throws Exception {
    Files.writeString(dir.resolve("species.txt"), "cat\ndog\n");
    Path src = dir.resolve("l.cmod");
    Files.writeString(
        src,
        """
        model Echo {
          input x: Vector[2]
          output kind: f32[2] to labels("species.txt") = x * 1.0
        }
        """);
    Path onnx = dir.resolve("l.onnx");
    assertEquals(0, run("compile", src.toString(), "-o", onnx.toString()), err());
    assertEquals(0, run("run", onnx.toString()), err());
    assertTrue(out().contains("kind (labels):"), out());
    Files.writeString(dir.resolve("species.txt"), "dog\ncat\n");
    assertEquals(1, run("run", onnx.toString()));
    assertTrue(err().contains("error[CM0701]") && err().contains("SHA-256"), err());
  }

  @Test
  void textIsCutToItsBoundWithANoteOrRefusedUnderStrict() throws Exception {
    Files.writeString(dir.resolve("chars.txt"), "<pad>\na\nb\nc\n \n");
    Path src = dir.resolve("t.cmod");
    Files.writeString(
        src,
        """
        model Loose {
          input s: Text[n] vocab 5 from chars("chars.txt", mask = "m") where n <= 4
          input m: i64[n]
          output ids: i64[n] = s
          output mask: i64[n] = m
        }
        model Strict {
          input s: Text[n] vocab 5 from chars("chars.txt", strict = true) where n <= 4
          output ids: i64[n] = s
        }
        """);
    Path out = dir.resolve("out");
    int rc =
        run(
            "run",
            src.toString(),
            "--model",
            "Loose",
            "--input",
            "s=abc ba",
            "--input",
            "s=cab",
            "--output-dir",
            out.toString());
    assertEquals(0, rc, err());
    assertTrue(err().contains("note:") && err().contains("6 tokens"), err());
    // line i is token i: a=1 b=2 c=3 space=4; the batch padded to its longest (the bound, 4)
    assertArrayEquals(
        new long[] {1, 2, 3, 4, 3, 1, 2, 0}, Npy.read(out.resolve("ids.npy")).longs());
    assertArrayEquals(
        new long[] {1, 1, 1, 1, 1, 1, 1, 0}, Npy.read(out.resolve("mask.npy")).longs());
    assertEquals(1, run("run", src.toString(), "--model", "Strict", "--input", "s=abcabc"));
    assertTrue(err().contains("error[CM0701]") && err().contains("strict"), err());
    assertEquals(1, run("run", src.toString(), "--model", "Strict", "--input", "s=abx"));
    assertTrue(err().contains("error[CM0701]") && err().contains("'x'"), err());
  }

  @Test
  void audioAndImageOutputsAreWrittenAsWavAndPngFiles() throws Exception {
    Need.PIL.require();
    Need.runPython(
        dir,
        """
        import numpy as np, wave
        from PIL import Image
        rng = np.random.default_rng(2)
        Image.fromarray(rng.integers(0, 256, (4, 6, 3), dtype=np.uint8), 'RGB').save('in.png')
        x = rng.integers(-30000, 30000, 200).astype('<i2')
        w = wave.open('in.wav', 'wb'); w.setnchannels(1); w.setsampwidth(2)
        w.setframerate(16000); w.writeframes(x.tobytes()); w.close()
        """);
    Path src = dir.resolve("e.cmod");
    Files.writeString(
        src,
        """
        model Echo {
          input img: Image[3, 4, 6]
          input clip: Audio[200]
          output pic: f32[3, 4, 6] to png() = img * 1.0
          output sound: f32[200] to wav(rate = 16000) = clip * 1.0
        }
        """);
    Path out = dir.resolve("out");
    assertEquals(
        0,
        run(
            "run",
            src.toString(),
            "--input",
            "img=" + dir.resolve("in.png"),
            "--input",
            "clip=" + dir.resolve("in.wav"),
            "--output-dir",
            out.toString()),
        err());
    // decoded and written back unchanged: PIL and the wave module read the same values
    Need.runPython(
        dir,
        """
        import numpy as np, wave
        from PIL import Image
        assert (np.asarray(Image.open('in.png')) == np.asarray(Image.open('out/pic.png'))).all()
        a, b = wave.open('in.wav'), wave.open('out/sound.wav')
        assert b.getframerate() == 16000 and a.readframes(200) == b.readframes(200)
        """);
  }
}
