package dev.cmod.ir.io;

import dev.cmod.ir.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Image files as model inputs: PNG, JPEG, BMP and GIF (what the JDK decodes), turned into the
 * tensor an image model takes by default — channels first, {@code [C, H, W]}, 8-bit values scaled
 * to [0, 1]. Three channels are RGB, one is grey, four RGBA; a colour image given to a one-channel
 * input is converted with the luma weights PIL uses ({@code L = (19595 R + 38470 G + 7471 B + 2^15)
 * >> 16}), so a grey picture is the same numbers in both. The size is read from the header before
 * any pixel is decoded, so a file claiming a huge picture is refused without the memory; a file cut
 * short is refused too, where the JDK's JPEG reader would only warn and fill the rest with grey.
 */
public final class ImageFiles {
  private ImageFiles() {}

  /** The largest image file read. */
  public static final long MAX_FILE_BYTES = 256L << 20;

  /** The most pixels decoded (a 16k × 16k picture). */
  public static final long MAX_PIXELS = 1L << 28;

  /** Whether {@code file}'s name says it is an image this class reads. */
  public static boolean isImage(Path file) {
    String n = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase();
    return n.endsWith(".png")
        || n.endsWith(".jpg")
        || n.endsWith(".jpeg")
        || n.endsWith(".bmp")
        || n.endsWith(".gif");
  }

  /** A decoded picture: its size and its pixels as ARGB (or grey values, for a grey picture). */
  public record Picture(int width, int height, boolean grey, int[] pixels) {}

  /**
   * Reads and decodes {@code file}.
   *
   * @throws TensorFileException when it cannot be read or decoded, or is too large
   */
  public static Picture read(Path file) {
    return read(file, MAX_PIXELS);
  }

  /**
   * Reads and decodes {@code file}, refusing from its header a picture of more than {@code
   * maxPixels} pixels (at most {@link #MAX_PIXELS}).
   *
   * @throws TensorFileException when it cannot be read or decoded, or is too large
   */
  public static Picture read(Path file, long maxPixels) {
    long bound = Math.min(maxPixels, MAX_PIXELS);
    byte[] data;
    try {
      data = SafeFiles.readAll(file, SafeFiles.Policy.USER, MAX_FILE_BYTES);
    } catch (IOException e) {
      throw new TensorFileException("cannot read it: " + SafeFiles.describe(e), e);
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
      Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
      if (readers == null || !readers.hasNext()) {
        throw new TensorFileException(
            "not an image cmod can decode (PNG, JPEG, BMP or GIF; for other tensors use .npy)");
      }
      ImageReader r = readers.next();
      try {
        r.setInput(in, true, true);
        // the JPEG reader fills a cut-short file with grey and only warns: refuse it, as PIL does
        r.addIIOReadWarningListener(
            (source, warning) -> {
              String w = warning.toLowerCase(java.util.Locale.ROOT);
              if (w.contains("truncated") || w.contains("premature end")) {
                throw new TensorFileException("the image is cut short (" + warning + ")");
              }
            });
        long w = r.getWidth(0);
        long h = r.getHeight(0);
        if (w <= 0 || h <= 0 || w * h > bound) {
          throw new TensorFileException(
              "the image is "
                  + w
                  + " × "
                  + h
                  + " pixels, more than cmod decodes ("
                  + bound
                  + " pixels)");
        }
        return picture(r.read(0));
      } finally {
        r.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof TensorFileException t) {
        throw t;
      }
      throw new TensorFileException("the image cannot be decoded: " + e.getMessage(), e);
    }
  }

  private static Picture picture(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    // 8-bit grey: the stored values (getRGB would pass them through a colour-space conversion)
    if (img.getColorModel() instanceof ComponentColorModel
        && img.getRaster().getNumBands() == 1
        && img.getSampleModel().getSampleSize(0) == 8) {
      Raster r = img.getRaster();
      int[] g = r.getSamples(0, 0, w, h, 0, new int[w * h]);
      return new Picture(w, h, true, g);
    }
    return new Picture(w, h, false, img.getRGB(0, 0, w, h, null, 0, w));
  }

  /**
   * The picture as a {@code [channels, H, W]} f32 tensor in [0, 1] (channels 1, 3 or 4).
   *
   * @throws TensorFileException for another channel count
   */
  public static Tensor toTensor(Picture p, int channels) {
    if (channels != 1 && channels != 3 && channels != 4) {
      throw new TensorFileException(
          "an image gives 1 (grey), 3 (RGB) or 4 (RGBA) channels, the input takes " + channels);
    }
    int n = p.width() * p.height();
    float[] out = new float[channels * n];
    for (int i = 0; i < n; i++) {
      int v = p.pixels()[i];
      int a = p.grey() ? 255 : (v >>> 24) & 0xff;
      int r = p.grey() ? v : (v >> 16) & 0xff;
      int g = p.grey() ? v : (v >> 8) & 0xff;
      int b = p.grey() ? v : v & 0xff;
      if (channels == 1) {
        int l = p.grey() ? v : (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
        out[i] = l / 255f;
      } else {
        out[i] = r / 255f;
        out[n + i] = g / 255f;
        out[2 * n + i] = b / 255f;
        if (channels == 4) {
          out[3 * n + i] = a / 255f;
        }
      }
    }
    return Tensor.ofFloats(new long[] {channels, p.height(), p.width()}, out);
  }
}
