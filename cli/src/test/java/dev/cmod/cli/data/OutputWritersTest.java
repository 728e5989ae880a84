package dev.cmod.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.cli.data.WavOutput.Format;
import dev.cmod.ir.io.ImageFiles;
import dev.cmod.ir.io.TensorFileException;
import dev.cmod.ir.io.WavFiles;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAV and PNG writers: read back by cmod's own decoders ({@link WavFiles}, {@link ImageFiles})
 * and, independently, by Python's {@code wave} module, numpy and PIL.
 */
class OutputWritersTest {
  @TempDir Path dir;

  private static float[] random(int n, float lo, float hi, long seed) {
    Random r = new Random(seed);
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = lo + (hi - lo) * r.nextFloat();
    }
    return f;
  }

  @Test
  void pcm16RoundTripsThroughTheDecoder() {
    float[] x = random(2 * 300, -1.2f, 1.2f, 1);
    x[0] = 1f;
    x[1] = -1f;
    x[2] = 0.5f / 32768; // half a level: rounds away
    WavFiles.Audio a =
        WavFiles.decode(
            WavOutput.encode(Tensor.ofFloats(new long[] {2, 300}, x), 22050, Format.PCM16));
    assertEquals(22050, a.sampleRate());
    assertEquals(2, a.channels());
    assertEquals(300, a.frames());
    for (int c = 0; c < 2; c++) {
      for (int t = 0; t < 300; t++) {
        float v = x[c * 300 + t];
        float expect = Math.max(-32768, Math.min(32767, Math.round(v * 32768.0))) / 32768f;
        assertEquals(expect, a.samples()[c][t], 0f, "channel " + c + " sample " + t);
        if (Math.abs(v) < 1) {
          assertEquals(v, a.samples()[c][t], 0.5f / 32768 + 1e-7f);
        }
      }
    }
    assertEquals(32767 / 32768f, a.samples()[0][0], "1.0 clips to the largest level");
    assertEquals(-1f, a.samples()[0][1]);
  }

  @Test
  void float32KeepsTheValuesExactly() {
    float[] x = random(500, -2f, 2f, 2);
    WavFiles.Audio a =
        WavFiles.decode(
            WavOutput.encode(Tensor.ofFloats(new long[] {500}, x), 16000, Format.FLOAT32));
    assertArrayEquals(x, a.samples()[0]);
    float[] bad = {0f, Float.NaN};
    assertThrows(
        DataException.class,
        () -> WavOutput.encode(Tensor.ofFloats(new long[] {2}, bad), 16000, Format.PCM16));
    assertThrows(
        DataException.class,
        () -> WavOutput.encode(Tensor.ofFloats(new long[] {2}, new float[2]), 0, Format.PCM16));
  }

  @Test
  void pngRoundTripsThroughTheDecoder() throws Exception {
    for (int c : new int[] {1, 3, 4}) {
      float[] x = random(c * 5 * 7, -0.1f, 1.1f, c);
      Path p = dir.resolve("img" + c + ".png");
      Files.write(p, PngOutput.encode(Tensor.ofFloats(new long[] {c, 5, 7}, x), 1.0));
      ImageFiles.Picture pic = ImageFiles.read(p);
      assertEquals(7, pic.width());
      assertEquals(5, pic.height());
      float[] back = ImageFiles.toTensor(pic, c).floats();
      for (int i = 0; i < x.length; i++) {
        float expect = Math.max(0, Math.min(255, Math.round(x[i] * 255.0))) / 255f;
        assertEquals(expect, back[i], 1e-7f, "channels " + c + " element " + i);
      }
    }
    // [H, W] with values in [0, 255]
    float[] levels = {0, 127.4f, 127.6f, 255, 300, -3};
    Path p = dir.resolve("levels.png");
    Files.write(p, PngOutput.encode(Tensor.ofFloats(new long[] {2, 3}, levels), 255));
    assertArrayEquals(new int[] {0, 127, 128, 255, 255, 0}, ImageFiles.read(p).pixels());
    assertThrows(
        DataException.class,
        () -> PngOutput.encode(Tensor.ofFloats(new long[] {2, 2, 2}, new float[8]), 1));
  }

  @Test
  void pythonReadsTheSameNumbers() throws Exception {
    Need.PIL.require();
    float[] rgb = random(3 * 4 * 6, 0f, 1f, 7);
    Files.write(
        dir.resolve("rgb.png"), PngOutput.encode(Tensor.ofFloats(new long[] {3, 4, 6}, rgb), 1));
    float[] grey = random(4 * 6, 0f, 1f, 8);
    Files.write(
        dir.resolve("grey.png"), PngOutput.encode(Tensor.ofFloats(new long[] {1, 4, 6}, grey), 1));
    float[] pcm = random(2 * 100, -1f, 1f, 9);
    Files.write(
        dir.resolve("pcm.wav"),
        WavOutput.encode(Tensor.ofFloats(new long[] {2, 100}, pcm), 8000, Format.PCM16));
    float[] flt = random(100, -1f, 1f, 10);
    Files.write(
        dir.resolve("float.wav"),
        WavOutput.encode(Tensor.ofFloats(new long[] {100}, flt), 44100, Format.FLOAT32));
    String out =
        Need.runPython(
            dir,
            String.join(
                "\n",
                "import numpy as np, wave, struct",
                "from PIL import Image",
                "def show(name, a): print(name, ' '.join(repr(float(v)) for v in np.asarray(a, np.float64).ravel()))",
                "im = Image.open('rgb.png'); assert im.mode == 'RGB', im.mode",
                "show('rgb', np.asarray(im).transpose(2, 0, 1) / 255.0)",
                "im = Image.open('grey.png'); assert im.mode == 'L', im.mode",
                "show('grey', np.asarray(im) / 255.0)",
                "w = wave.open('pcm.wav'); assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 8000, 2)",
                "s = np.frombuffer(w.readframes(w.getnframes()), '<i2').reshape(-1, 2).T",
                "show('pcm', s / 32768.0)",
                "b = open('float.wav', 'rb').read(); at = 12; fmt = None",
                "while at < len(b):",
                "    tag, n = b[at:at+4], struct.unpack('<I', b[at+4:at+8])[0]",
                "    if tag == b'fmt ': fmt = struct.unpack('<HHIIHH', b[at+8:at+24])",
                "    if tag == b'data': data = np.frombuffer(b[at+8:at+8+n], '<f4')",
                "    at += 8 + n + (n & 1)",
                "assert fmt[0] == 3 and fmt[1] == 1 and fmt[2] == 44100 and fmt[5] == 32, fmt",
                "show('float', data)"));
    Map<String, double[]> py = new LinkedHashMap<>();
    for (String line : out.strip().split("\n")) {
      String[] f = line.strip().split(" ");
      double[] v = new double[f.length - 1];
      for (int i = 1; i < f.length; i++) {
        v[i - 1] = Double.parseDouble(f[i]);
      }
      py.put(f[0], v);
    }
    assertEquals(List.of("rgb", "grey", "pcm", "float"), List.copyOf(py.keySet()), out);
    for (int i = 0; i < rgb.length; i++) {
      assertEquals(Math.round(rgb[i] * 255.0) / 255.0, py.get("rgb")[i], 1e-12, "rgb " + i);
      assertEquals(rgb[i], py.get("rgb")[i], 0.5 / 255 + 1e-6);
    }
    for (int i = 0; i < grey.length; i++) {
      assertEquals(Math.round(grey[i] * 255.0) / 255.0, py.get("grey")[i], 1e-12, "grey " + i);
    }
    for (int i = 0; i < pcm.length; i++) {
      assertEquals(pcm[i], py.get("pcm")[i], 0.5 / 32768 + 1e-7, "pcm " + i);
    }
    for (int i = 0; i < flt.length; i++) {
      assertEquals(flt[i], py.get("float")[i], 0.0, "float " + i);
    }
  }

  @Test
  void decodedOutputsStayInsideTheFolder() throws Exception {
    Path out = Files.createDirectory(dir.resolve("out"));
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("label.json", "[]\n".getBytes());
    files.put("text.txt", "hi\n".getBytes());
    OutputFiles.write(out, files);
    assertEquals("hi\n", Files.readString(out.resolve("text.txt")));
    for (String bad : List.of("../x.txt", "a/b.txt", "..", ".", "", "/tmp/x")) {
      assertThrows(
          IllegalArgumentException.class,
          () -> OutputFiles.write(out, Map.of(bad, new byte[0])),
          bad);
    }
    Files.createDirectory(out.resolve("taken.png"));
    Map<String, byte[]> two = new LinkedHashMap<>();
    two.put("first.txt", new byte[1]);
    two.put("taken.png", new byte[1]);
    assertThrows(TensorFileException.class, () -> OutputFiles.write(out, two));
    assertFalse(Files.exists(out.resolve("first.txt")), "all or none");
    assertTrue(Files.isDirectory(out.resolve("taken.png")));
  }

  @Test
  void aBatchSplitsIntoExamples() {
    Tensor t = Tensor.ofFloats(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6});
    List<Tensor> ex = OutputFiles.examples(t, 1, "a WAV output");
    assertEquals(2, ex.size());
    assertArrayEquals(new float[] {4, 5, 6}, ex.get(1).floats());
    assertEquals(List.of(t), OutputFiles.examples(t, 2, "a WAV output"));
    assertThrows(DataException.class, () -> OutputFiles.examples(t, 3, "an image output"));
  }
}
