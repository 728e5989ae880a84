package dev.cmod.cli.data;

import dev.cmod.ir.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import javax.imageio.ImageIO;

/**
 * An image output as a PNG file: channels first, {@code [C, H, W]} with 1 (grey), 3 (RGB) or 4
 * (RGBA) channels, or {@code [H, W]} grey — the layout {@link dev.cmod.ir.io.ImageFiles} decodes an
 * input to. A value {@code v} becomes the 8-bit level {@code round(v / scale · 255)} clipped to [0,
 * 255]: with the default scale 1 the values are in [0, 1] as decoded inputs are, so a picture read
 * and written again is unchanged; a model that works in [0, 255] declares scale 255. A NaN value is
 * refused (a model fault a black pixel would hide).
 */
public final class PngOutput {
  private PngOutput() {}

  /**
   * The bytes of the PNG file of {@code image}, its values divided by {@code scale} first.
   *
   * @throws DataException when the tensor is not floats of shape {@code [C, H, W]} ({@code C} 1, 3
   *     or 4) or {@code [H, W]}, or has a NaN value
   */
  public static byte[] encode(Tensor image, double scale) {
    long[] s = image.shape();
    boolean chw = s.length == 3 && (s[0] == 1 || s[0] == 3 || s[0] == 4);
    if (!image.isFloat() || !(chw || s.length == 2) || s[s.length - 1] < 1 || s[s.length - 2] < 1) {
      throw new DataException(
          "an image output is written from floats of shape [C, H, W] (C = 1, 3 or 4) or [H, W];"
              + " this output is "
              + image.dtype()
              + Arrays.toString(s),
          null);
    }
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new DataException("an image scale must be positive, not " + scale, null);
    }
    int c = chw ? (int) s[0] : 1;
    int h = (int) s[s.length - 2];
    int w = (int) s[s.length - 1];
    int n = h * w;
    float[] f = image.floats();
    int type =
        c == 1
            ? BufferedImage.TYPE_BYTE_GRAY
            : c == 3 ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_INT_ARGB;
    BufferedImage img = new BufferedImage(w, h, type);
    if (c == 1) {
      int[] g = new int[n];
      for (int i = 0; i < n; i++) {
        g[i] = level(f, i, scale);
      }
      img.getRaster().setSamples(0, 0, w, h, 0, g);
    } else {
      int[] argb = new int[n];
      for (int i = 0; i < n; i++) {
        int a = c == 4 ? level(f, 3 * n + i, scale) : 255;
        argb[i] =
            a << 24
                | level(f, i, scale) << 16
                | level(f, n + i, scale) << 8
                | level(f, 2 * n + i, scale);
      }
      img.setRGB(0, 0, w, h, argb, 0, w);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, "png", out)) {
        throw new IllegalStateException("the JDK has no PNG writer");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return out.toByteArray();
  }

  private static int level(float[] f, int i, double scale) {
    float v = f[i];
    if (Float.isNaN(v)) {
      throw new DataException(
          "the image has a NaN value (element " + i + ")",
          "the model produced it; check its input");
    }
    long l = Math.round(v / scale * 255.0);
    return (int) Math.max(0, Math.min(255, l));
  }
}
