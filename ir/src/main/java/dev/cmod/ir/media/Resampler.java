package dev.cmod.ir.media;

/**
 * PIL's resize of float images ({@code Image.resize} on mode {@code "F"}), one plane at a time:
 * separable, the horizontal pass first into a float intermediate, then the vertical one; an axis
 * whose size does not change is not resampled. For output pixel {@code i} of an axis scaled by
 * {@code s = in / out}, the kernel is centred at {@code (i + 0.5) s} in input coordinates and
 * stretched by {@code max(s, 1)}; its taps are the input pixels whose centres it covers (rounded as
 * PIL rounds them, clipped to the image), their weights normalized to sum to 1, the sum taken in
 * double and stored as float. Nearest neighbour follows PIL's affine scaling instead: the source
 * pixel of output pixel {@code i} is {@code floor(s / 2 + i s)}, the position accumulated by
 * repeated addition as PIL does, which decides the pixels that fall on a boundary.
 */
final class Resampler {
  private Resampler() {}

  /** The most kernel weights one axis may need (256 MiB of doubles). */
  static final long MAX_WEIGHTS = 1L << 25;

  /** The weights of one axis: for output pixel i, taps from first[i], count[i] of them. */
  private record Taps(int[] first, int[] count, int stride, double[] weights) {}

  /** Resizes every plane of {@code p} to {@code height × width}. */
  static Planes resize(Planes p, int height, int width, Interpolation f) {
    int plane = p.height() * p.width();
    float[] out = new float[p.channels() * height * width];
    if (f == Interpolation.NEAREST) {
      int[] xs = nearest(p.width(), width);
      int[] ys = nearest(p.height(), height);
      for (int c = 0; c < p.channels(); c++) {
        for (int y = 0; y < height; y++) {
          int src = c * plane + ys[y] * p.width();
          int dst = (c * height + y) * width;
          for (int x = 0; x < width; x++) {
            out[dst + x] = p.data()[src + xs[x]];
          }
        }
      }
      return new Planes(p.channels(), height, width, out);
    }
    Taps h = width == p.width() ? null : taps(p.width(), width, f);
    Taps v = height == p.height() ? null : taps(p.height(), height, f);
    for (int c = 0; c < p.channels(); c++) {
      float[] in = new float[plane];
      System.arraycopy(p.data(), c * plane, in, 0, plane);
      float[] mid = h == null ? in : horizontal(in, p.height(), p.width(), width, h);
      float[] res = v == null ? mid : vertical(mid, p.height(), width, height, v);
      System.arraycopy(res, 0, out, c * height * width, height * width);
    }
    return new Planes(p.channels(), height, width, out);
  }

  private static int[] nearest(int in, int out) {
    double s = (double) in / out;
    int[] idx = new int[out];
    double at = s * 0.5;
    for (int i = 0; i < out; i++) {
      idx[i] = Math.min(in - 1, (int) at);
      at += s;
    }
    return idx;
  }

  private static Taps taps(int in, int out, Interpolation f) {
    double scale = (double) in / out;
    double stretch = Math.max(scale, 1.0);
    double support = f.support() * stretch;
    double shrink = 1.0 / stretch;
    long wide = (long) Math.ceil(support) * 2 + 1;
    if (wide * out > MAX_WEIGHTS) {
      throw new MediaException(
          "a "
              + f.label()
              + " resize of an axis from "
              + in
              + " to "
              + out
              + " pixels needs "
              + wide * out
              + " filter weights, more than cmod allocates ("
              + MAX_WEIGHTS
              + ")",
          "resize in two steps, or to a size nearer the image's");
    }
    int stride = (int) wide;
    int[] first = new int[out];
    int[] count = new int[out];
    double[] w = new double[out * stride];
    for (int i = 0; i < out; i++) {
      double center = (i + 0.5) * scale;
      int lo = Math.max(0, (int) (center - support + 0.5));
      int hi = Math.min(in, (int) (center + support + 0.5));
      int n = hi - lo;
      double sum = 0;
      for (int k = 0; k < n; k++) {
        double wk = f.weight((k + lo - center + 0.5) * shrink);
        w[i * stride + k] = wk;
        sum += wk;
      }
      if (sum != 0) {
        for (int k = 0; k < n; k++) {
          w[i * stride + k] /= sum;
        }
      }
      first[i] = lo;
      count[i] = n;
    }
    return new Taps(first, count, stride, w);
  }

  private static float[] horizontal(float[] in, int rows, int inW, int outW, Taps t) {
    float[] out = new float[rows * outW];
    for (int y = 0; y < rows; y++) {
      for (int x = 0; x < outW; x++) {
        double s = 0;
        int base = y * inW + t.first()[x];
        for (int k = 0; k < t.count()[x]; k++) {
          s += in[base + k] * t.weights()[x * t.stride() + k];
        }
        out[y * outW + x] = (float) s;
      }
    }
    return out;
  }

  private static float[] vertical(float[] in, int inH, int w, int outH, Taps t) {
    float[] out = new float[outH * w];
    for (int y = 0; y < outH; y++) {
      for (int x = 0; x < w; x++) {
        double s = 0;
        for (int k = 0; k < t.count()[y]; k++) {
          s += in[(t.first()[y] + k) * w + x] * t.weights()[y * t.stride() + k];
        }
        out[y * w + x] = (float) s;
      }
    }
    return out;
  }
}
