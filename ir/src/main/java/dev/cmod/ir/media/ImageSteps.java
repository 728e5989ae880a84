package dev.cmod.ir.media;

/**
 * The image preprocessing steps, each a pure function from planes to planes with the semantics of
 * the tool users preprocess with, so a model sees from cmod the numbers it was trained on: PIL for
 * colour conversion and resampling, torchvision for the shorter-side resize and the center crop,
 * PaddleOCR for the fixed-height text-line resize, numpy for scale and normalize. The exact rules
 * are in each method's documentation and in {@code docs/language.md} ("Preprocessing steps").
 *
 * <p>Every step that makes an image bounds its output by {@link MediaFiles#MAX_PIXELS} before
 * allocating it, so a declaration with absurd sizes is refused rather than run out of memory.
 */
public final class ImageSteps {
  private ImageSteps() {}

  // ---------------------------------------------------------------------------------------------
  // colour

  /**
   * Grey from RGB with PIL's {@code convert("L")} luma weights (ITU-R 601-2): {@code L = R 299/1000
   * + G 587/1000 + B 114/1000}, computed in double on the float values and stored as float; one
   * plane is returned as it is.
   *
   * @throws MediaException for planes with neither 1 nor 3 channels (an alpha channel is dropped by
   *     the decoder, as PIL's conversion to RGB drops it)
   */
  public static Planes toGray(Planes p) {
    if (p.channels() == 1) {
      return p;
    }
    requireChannels(p, 3, "grey conversion");
    int n = p.height() * p.width();
    float[] d = p.data();
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) ((d[i] * 299.0 + d[n + i] * 587.0 + d[2 * n + i] * 114.0) / 1000.0);
    }
    return new Planes(1, p.height(), p.width(), out);
  }

  /**
   * RGB from grey by repeating the plane three times (what PIL's {@code convert("RGB")} does to an
   * {@code "L"} image); three planes are returned as they are.
   *
   * @throws MediaException for planes with neither 1 nor 3 channels
   */
  public static Planes toRgb(Planes p) {
    if (p.channels() == 3) {
      return p;
    }
    requireChannels(p, 1, "RGB conversion");
    int n = p.height() * p.width();
    float[] out = new float[3 * n];
    for (int c = 0; c < 3; c++) {
      System.arraycopy(p.data(), 0, out, c * n, n);
    }
    return new Planes(3, p.height(), p.width(), out);
  }

  private static void requireChannels(Planes p, int want, String step) {
    if (p.channels() != want) {
      throw new MediaException(
          step + " takes " + want + " channel(s), the image has " + p.channels(),
          "decode the image with 1 (grey) or 3 (RGB) channels");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // size

  /**
   * Resizes to exactly {@code height × width} with PIL's {@code Image.resize} semantics on float
   * planes (see {@link Interpolation}): separable, antialiased when shrinking, horizontal pass
   * first; an unchanged size is a copy.
   *
   * @throws MediaException when a size is not positive or the result would be too large
   */
  public static Planes resize(Planes p, int height, int width, Interpolation f) {
    checkSize(p.channels(), height, width, "resize");
    if (height == p.height() && width == p.width()) {
      return new Planes(p.channels(), height, width, p.data().clone());
    }
    return Resampler.resize(p, height, width, f);
  }

  /**
   * Resizes so that the shorter side becomes {@code size}, keeping the aspect ratio as
   * torchvision's {@code Resize(size)} does: the longer side becomes {@code floor(size × long /
   * short)} (the quotient taken in double, as Python's {@code int(size * long / short)}); a square
   * image becomes {@code size × size}. Then {@link #resize}.
   */
  public static Planes resizeShorter(Planes p, int size, Interpolation f) {
    int[] hw = shorterSideSize(p.height(), p.width(), size);
    return resize(p, hw[0], hw[1], f);
  }

  /** The {@code {height, width}} that {@link #resizeShorter} resizes an image to. */
  public static int[] shorterSideSize(int height, int width, int size) {
    if (size <= 0) {
      throw new MediaException(
          "a resize to a shorter side of " + size + " pixels", "give a positive size");
    }
    boolean portrait = width <= height;
    int shortSide = portrait ? width : height;
    int longSide = portrait ? height : width;
    long newLong = (long) ((double) ((long) size * longSide) / shortSide);
    if (newLong > Integer.MAX_VALUE) {
      throw tooLarge(size, newLong);
    }
    return portrait ? new int[] {(int) newLong, size} : new int[] {size, (int) newLong};
  }

  /**
   * Resizes to {@code height}, the width following the aspect ratio but at most {@code maxWidth},
   * as PaddleOCR's text recogniser prepares a line of text: {@code width = min(ceil(height × (w0 /
   * h0)), maxWidth)}, the ratio taken in double. Pad the result to {@code maxWidth} with {@link
   * #pad} to get the fixed width the recogniser takes. (PaddleOCR resizes with OpenCV's bilinear
   * filter, which does not antialias; here the named {@link Interpolation} resamples with PIL's.)
   */
  public static Planes resizeToHeight(Planes p, int height, int maxWidth, Interpolation f) {
    return resize(p, height, heightResizeWidth(p.height(), p.width(), height, maxWidth), f);
  }

  /** The width that {@link #resizeToHeight} gives an image of {@code h0 × w0}. */
  public static int heightResizeWidth(int h0, int w0, int height, int maxWidth) {
    if (height <= 0 || maxWidth <= 0) {
      throw new MediaException(
          "a resize to height " + height + " and at most width " + maxWidth,
          "give a positive height and maximum width");
    }
    double w = Math.ceil(height * ((double) w0 / h0));
    return (int) Math.max(1, Math.min(w, maxWidth));
  }

  /**
   * Crops the central {@code height × width} window as torchvision's {@code CenterCrop}: its top
   * row is {@code round((H - height) / 2)} and its left column {@code round((W - width) / 2)},
   * rounding halves to even as Python's {@code round} does. A window larger than the image first
   * pads the image with zeros as torchvision does: {@code floor(d / 2)} before and {@code ceil(d /
   * 2)} after, for {@code d} the size it lacks on that axis.
   */
  public static Planes centerCrop(Planes p, int height, int width) {
    checkSize(p.channels(), height, width, "center crop");
    int padTop = Math.max(0, height - p.height()) / 2;
    int padLeft = Math.max(0, width - p.width()) / 2;
    int h = Math.max(p.height(), height);
    int w = Math.max(p.width(), width);
    int top = (int) Math.rint((h - height) / 2.0) - padTop;
    int left = (int) Math.rint((w - width) / 2.0) - padLeft;
    return window(p, top, left, height, width, 0f);
  }

  /**
   * Pads on the right and at the bottom with {@code value} to {@code height × width} (PaddleOCR's
   * padding of a resized text line to the recogniser's width).
   *
   * @throws MediaException when the image is already larger than that
   */
  public static Planes pad(Planes p, int height, int width, float value) {
    checkSize(p.channels(), height, width, "pad");
    if (p.height() > height || p.width() > width) {
      throw new MediaException(
          "the image is "
              + p.width()
              + " × "
              + p.height()
              + " pixels, larger than the "
              + width
              + " × "
              + height
              + " it is padded to",
          "resize it first (e.g. to the height with a maximum width) or pad to a larger size");
    }
    return window(p, 0, 0, height, width, value);
  }

  /** The window at ({@code top}, {@code left}), reading {@code fill} outside the image. */
  private static Planes window(Planes p, int top, int left, int height, int width, float fill) {
    float[] out = new float[p.channels() * height * width];
    for (int c = 0; c < p.channels(); c++) {
      for (int y = 0; y < height; y++) {
        int sy = top + y;
        for (int x = 0; x < width; x++) {
          int sx = left + x;
          boolean inside = sy >= 0 && sy < p.height() && sx >= 0 && sx < p.width();
          out[(c * height + y) * width + x] = inside ? p.at(c, sy, sx) : fill;
        }
      }
    }
    return new Planes(p.channels(), height, width, out);
  }

  // ---------------------------------------------------------------------------------------------
  // values

  /** Every value times {@code factor}, in float ({@code x * factor} as numpy does on float32). */
  public static Planes scale(Planes p, float factor) {
    float[] out = p.data().clone();
    for (int i = 0; i < out.length; i++) {
      out[i] *= factor;
    }
    return new Planes(p.channels(), p.height(), p.width(), out);
  }

  /**
   * Per-channel normalization {@code (x - mean[c]) / std[c]} in float, as torchvision's {@code
   * Normalize} (subtract, then divide); a single mean or std applies to every channel.
   *
   * @throws MediaException when the counts fit neither the channels nor 1, or a std is 0
   */
  public static Planes normalize(Planes p, float[] mean, float[] std) {
    int ch = p.channels();
    for (float[] v : new float[][] {mean, std}) {
      if (v.length != 1 && v.length != ch) {
        throw new MediaException(
            "normalize gives " + v.length + " values for an image of " + ch + " channel(s)",
            "give one mean and one std per channel, or one of each for all");
      }
    }
    for (float s : std) {
      if (s == 0 || !Float.isFinite(s)) {
        throw new MediaException(
            "normalize divides by a std of " + s, "give finite, non-zero standard deviations");
      }
    }
    int n = p.height() * p.width();
    float[] out = new float[p.data().length];
    for (int c = 0; c < ch; c++) {
      float m = mean[mean.length == 1 ? 0 : c];
      float s = std[std.length == 1 ? 0 : c];
      for (int i = c * n; i < (c + 1) * n; i++) {
        out[i] = (p.data()[i] - m) / s;
      }
    }
    return new Planes(ch, p.height(), p.width(), out);
  }

  // ---------------------------------------------------------------------------------------------

  private static void checkSize(int channels, long height, long width, String step) {
    if (height <= 0 || width <= 0) {
      throw new MediaException(
          "a " + step + " to " + width + " × " + height + " pixels", "give positive sizes");
    }
    if (height * width > MediaFiles.MAX_PIXELS) {
      throw new MediaException(
          "a "
              + step
              + " to "
              + width
              + " × "
              + height
              + " pixels makes an image larger than cmod handles ("
              + MediaFiles.MAX_PIXELS
              + " pixels)",
          "declare a smaller size");
    }
  }

  private static MediaException tooLarge(int size, long other) {
    return new MediaException(
        "a resize to a shorter side of " + size + " makes the other side " + other + " pixels",
        "declare a smaller size, or resize to an exact size");
  }
}
