package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample {@code samples/real/ppocr_rec.cmod} reads a real image of a line of text ({@code
 * samples/real/text_line.png}, made by {@code scripts/make-text-image.py}): preprocessed as
 * PaddleOCR does (resized to height 48 keeping the aspect ratio, bilinear; BGR, scaled to [-1, 1],
 * channels first), its probabilities must equal the original file's on ONNX Runtime (to {@link
 * #PROB_TOLERANCE}), its greedy path must be the original's, and the path decoded with the model's
 * character list ({@code ppocr_keys_v1.txt}, from the same npm package) must be the text drawn.
 */
class PpOcrRecSampleTest {
  @TempDir Path dir;

  /**
   * Measured: the artifact's probabilities differ from the original's by up to 9.5e-6 on this image
   * at -O0 and -O2 (the original's own outputs move by 3.6e-6 between ONNX Runtime's optimization
   * levels). It was 4.1e-5 until BatchNormalization was imported in the form ONNX Runtime computes,
   * {@code x · s + (bias − mean · s)} with {@code s = (1 / √(var + ε)) · scale} (now bit for bit
   * with the original's node), and GlobalAveragePool as one mean over the flattened spatial axes.
   */
  static final double PROB_TOLERANCE = 1e-5;

  @Test
  void readsTheLineLikeTheOriginal() throws Exception {
    Path w = RealSamples.stage(dir, "ppocr_rec.cmod");
    Path model = RealSamples.fetchedInto(dir, "ch_PP-OCRv4_rec_infer.onnx");
    List<String> keys = Files.readAllLines(RealSamples.fetchedInto(dir, "ppocr_keys_v1.txt"));
    String drawn = Files.readString(RealSamples.sample("text_line.txt"), StandardCharsets.UTF_8);
    Tensor x = preprocess(ImageIO.read(RealSamples.sample("text_line.png").toFile()));

    Tensor want = E2E.runOrt(Files.readAllBytes(model), Map.of("x", x)).values().iterator().next();
    long[] wantPath = argmax(want);
    assertEquals(drawn.strip(), decode(wantPath, keys), "the original reads the line");
    for (int level : new int[] {0, 2}) {
      E2E.Built b = E2E.compileFile(w, E2E.opts(level));
      Map<String, Tensor> got = E2E.runOrt(b.onnx(), Map.of("image", x));
      Tensor probs = RealSamples.output(got, "probs");
      E2E.assertClose(want, probs, 0, PROB_TOLERANCE, "ppocr_rec.cmod -O" + level);
      assertArrayEquals(wantPath, RealSamples.output(got, "path").longs(), "-O" + level);
      System.out.printf(
          "ppocr_rec.cmod -O%d: input %s, %d steps, max |dprob| %.3g, read \"%s\"%n",
          level,
          java.util.Arrays.toString(x.shape()),
          wantPath.length,
          RealSamples.maxDiff(want, probs),
          decode(RealSamples.output(got, "path").longs(), keys));
    }
  }

  /**
   * PaddleOCR's recogniser preprocessing for one image: height 48, width {@code ceil(48 · w / h)},
   * bilinear with pixel centres aligned (as OpenCV's resize), channels in OpenCV's BGR order, then
   * {@code (v / 255 - 0.5) / 0.5}, laid out {@code [1, 3, 48, W]}.
   */
  static Tensor preprocess(BufferedImage img) {
    int h = 48;
    int w = (int) Math.ceil(h * (double) img.getWidth() / img.getHeight());
    float[] out = new float[3 * h * w];
    double sy = (double) img.getHeight() / h;
    double sx = (double) img.getWidth() / w;
    for (int y = 0; y < h; y++) {
      double fy = Math.max(0, (y + 0.5) * sy - 0.5);
      int y0 = Math.min((int) fy, img.getHeight() - 1);
      int y1 = Math.min(y0 + 1, img.getHeight() - 1);
      double ay = fy - y0;
      for (int x = 0; x < w; x++) {
        double fx = Math.max(0, (x + 0.5) * sx - 0.5);
        int x0 = Math.min((int) fx, img.getWidth() - 1);
        int x1 = Math.min(x0 + 1, img.getWidth() - 1);
        double ax = fx - x0;
        int[] p = {img.getRGB(x0, y0), img.getRGB(x1, y0), img.getRGB(x0, y1), img.getRGB(x1, y1)};
        for (int c = 0; c < 3; c++) {
          int shift = 8 * c; // BGR: channel 0 is blue, the lowest byte of the packed RGB
          double v =
              (1 - ay) * ((1 - ax) * channel(p[0], shift) + ax * channel(p[1], shift))
                  + ay * ((1 - ax) * channel(p[2], shift) + ax * channel(p[3], shift));
          out[(c * h + y) * w + x] = (float) ((v / 255 - 0.5) / 0.5);
        }
      }
    }
    return Tensor.ofFloats(new long[] {1, 3, h, w}, out);
  }

  private static int channel(int rgb, int shift) {
    return (rgb >> shift) & 0xff;
  }

  /** The most likely class per time step of {@code probs [1, T, C]}. */
  static long[] argmax(Tensor probs) {
    int t = (int) probs.shape()[1];
    int c = (int) probs.shape()[2];
    float[] p = probs.floats();
    long[] path = new long[t];
    for (int i = 0; i < t; i++) {
      int best = 0;
      for (int k = 1; k < c; k++) {
        if (p[i * c + k] > p[i * c + best]) {
          best = k;
        }
      }
      path[i] = best;
    }
    return path;
  }

  /**
   * Greedy CTC decoding as PaddleOCR's {@code CTCLabelDecode}: merge repeats, drop the blank (class
   * 0); class i is line i of the key list (1-based), the class after the last line a space.
   */
  static String decode(long[] path, List<String> keys) {
    List<String> chars = new ArrayList<>();
    chars.add("");
    chars.addAll(keys);
    chars.add(" ");
    StringBuilder s = new StringBuilder();
    long prev = -1;
    for (long k : path) {
      if (k != prev && k != 0) {
        s.append(chars.get((int) k));
      }
      prev = k;
    }
    return s.toString();
  }
}
