package dev.cmod.ir.media;

import java.util.Locale;

/**
 * The interpolations a resize step names, with PIL's filters: each output pixel is a weighted sum
 * of the input pixels under a kernel centred on it, the kernel's support (in input pixels) widened
 * by the scale factor when shrinking, so that shrinking averages rather than skips (antialiasing).
 * {@link #NEAREST} is the exception: it copies the input pixel the output pixel's centre falls in.
 */
public enum Interpolation {
  /** The input pixel under the output pixel's centre; no averaging. */
  NEAREST(0),
  /** The triangle (tent) kernel {@code 1 - |x|}, support 1. */
  BILINEAR(1),
  /** Keys' cubic convolution kernel with {@code a = -0.5}, support 2 (PIL's and OpenCV's a). */
  BICUBIC(2),
  /** The Lanczos kernel {@code sinc(x) sinc(x / 3)}, support 3. */
  LANCZOS(3);

  private final double support;

  Interpolation(double support) {
    this.support = support;
  }

  /** The kernel's half width at scale 1, in input pixels. */
  double support() {
    return support;
  }

  /** The kernel's weight at distance {@code x} (in input pixels at scale 1). */
  double weight(double x) {
    double t = Math.abs(x);
    return switch (this) {
      case NEAREST -> t <= 0.5 ? 1 : 0;
      case BILINEAR -> t < 1 ? 1 - t : 0;
      case BICUBIC -> {
        double a = -0.5;
        if (t < 1) {
          yield ((a + 2) * t - (a + 3)) * t * t + 1;
        }
        yield t < 2 ? (((t - 5) * t + 8) * t - 4) * a : 0;
      }
      case LANCZOS -> -3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0;
    };
  }

  private static double sinc(double x) {
    if (x == 0) {
      return 1;
    }
    double px = Math.PI * x;
    return Math.sin(px) / px;
  }

  /**
   * The interpolation called {@code name} (case-insensitive; {@code linear} and {@code cubic} are
   * accepted for bilinear and bicubic).
   *
   * @throws MediaException for another name, listing the ones there are
   */
  public static Interpolation named(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return switch (n) {
      case "nearest" -> NEAREST;
      case "bilinear", "linear" -> BILINEAR;
      case "bicubic", "cubic" -> BICUBIC;
      case "lanczos" -> LANCZOS;
      default ->
          throw new MediaException(
              "there is no interpolation '" + name + "'",
              "name one of nearest, bilinear, bicubic, lanczos");
    };
  }

  /** The name a resize step uses for it. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
