package dev.cmod.ir.media;

import dev.cmod.ir.tensor.Tensor;

/**
 * An image as a model sees it: {@code channels} float planes of {@code height × width}, channels
 * first (CHW, row-major within a plane), the layout every image step reads and writes. Values are
 * whatever the previous step left: [0, 1] after decoding, anything after normalizing.
 *
 * @param data {@code channels * height * width} values; {@code data[(c * height + y) * width + x]}
 */
public record Planes(int channels, int height, int width, float[] data) {
  /** Checks that the sizes are positive and {@code data} holds exactly that many values. */
  public Planes {
    if (channels <= 0 || height <= 0 || width <= 0) {
      throw new IllegalArgumentException("planes of " + channels + " × " + height + " × " + width);
    }
    if ((long) channels * height * width != data.length) {
      throw new IllegalArgumentException(
          data.length + " values for " + channels + " × " + height + " × " + width + " planes");
    }
  }

  /** The value of channel {@code c} at row {@code y}, column {@code x}. */
  public float at(int c, int y, int x) {
    return data[(c * height + y) * width + x];
  }

  /** The planes as an f32 tensor of shape {@code [channels, height, width]} (sharing no data). */
  public Tensor toTensor() {
    return Tensor.ofFloats(new long[] {channels, height, width}, data.clone());
  }

  /** The planes of a {@code [C, H, W]} f32 tensor, such as {@code ImageFiles.toTensor} gives. */
  public static Planes of(Tensor t) {
    long[] s = t.shape();
    if (s.length != 3) {
      throw new IllegalArgumentException("planes from a tensor of rank " + s.length);
    }
    return new Planes((int) s[0], (int) s[1], (int) s[2], t.floats().clone());
  }
}
