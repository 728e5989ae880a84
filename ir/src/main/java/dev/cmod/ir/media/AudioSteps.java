package dev.cmod.ir.media;

import dev.cmod.ir.io.WavFiles;

/**
 * The audio preprocessing steps, each a pure function on {@link Clip}s: mixing to mono, resampling
 * to the declared rate, padding or trimming to the declared length, and cutting into overlapping
 * chunks for a model that takes a fixed window of a longer recording. The semantics follow numpy
 * and SciPy so a recogniser trained on audio prepared there sees the same samples; the exact rules
 * are in each method and in {@code docs/language.md} ("Preprocessing steps").
 */
public final class AudioSteps {
  private AudioSteps() {}

  /**
   * One channel, the mean of all channels at each frame ({@code x.mean(axis=0)}), summed in double;
   * a mono clip is returned as it is.
   */
  public static Clip mono(Clip c) {
    if (c.channels() == 1) {
      return c;
    }
    float[] m = new float[c.frames()];
    for (int i = 0; i < m.length; i++) {
      double s = 0;
      for (float[] ch : c.samples()) {
        s += ch[i];
      }
      m[i] = (float) (s / c.channels());
    }
    return new Clip(c.rate(), new float[][] {m});
  }

  /**
   * Every channel at {@code rate} Hz, by {@link PolyphaseResampler} (SciPy's {@code resample_poly}
   * with its defaults); a clip already at that rate is returned as it is.
   *
   * @throws MediaException when the rates cannot be resampled between (see {@link
   *     PolyphaseResampler#check})
   */
  public static Clip resample(Clip c, int rate) {
    if (c.rate() == rate) {
      return c;
    }
    PolyphaseResampler r = PolyphaseResampler.of(c.rate(), rate);
    long n = r.outputLength(c.frames());
    if (n * c.channels() > WavFiles.MAX_SAMPLES) {
      throw new MediaException(
          "resampling the "
              + c.frames()
              + " frames of "
              + c.channels()
              + " channel(s) from "
              + c.rate()
              + " Hz to "
              + rate
              + " Hz makes more samples than cmod handles",
          "cut the recording first");
    }
    float[][] out = new float[c.channels()][];
    for (int ch = 0; ch < out.length; ch++) {
      out[ch] = r.apply(c.samples()[ch]);
    }
    return new Clip(rate, out);
  }

  /**
   * Exactly {@code length} frames: a longer clip keeps its first {@code length} frames, a shorter
   * one is followed by zeros.
   *
   * @throws MediaException when the length is not positive or too large
   */
  public static Clip padOrTrim(Clip c, int length) {
    checkLength(length, c.channels(), "pad or trim");
    float[][] out = new float[c.channels()][length];
    for (int ch = 0; ch < out.length; ch++) {
      System.arraycopy(c.samples()[ch], 0, out[ch], 0, Math.min(length, c.frames()));
    }
    return new Clip(c.rate(), out);
  }

  /**
   * Chunks of a clip: {@code count} windows of {@code length} frames of every channel, the k-th
   * starting at frame {@code k · hop}.
   *
   * @param data {@code count × channels × length} samples, chunk after chunk, channel after channel
   */
  public record Chunks(int count, int channels, int length, float[] data) {}

  /**
   * Cuts {@code c} into windows of {@code length} frames starting every {@code hop} frames: {@code
   * 1 + ceil(max(0, n - length) / hop)} of them for {@code n} frames, so that every frame is in a
   * chunk and the last chunk ends at or after the clip's end, the missing frames of the last chunk
   * (or of the only one, for a clip shorter than {@code length}) being zeros.
   *
   * @throws MediaException when the length or hop is not positive, or the chunks would hold too
   *     many samples (a tiny hop over a long clip)
   */
  public static Chunks chunks(Clip c, int length, int hop) {
    checkLength(length, c.channels(), "chunks");
    if (hop <= 0) {
      throw new MediaException("chunks with a hop of " + hop + " frames", "give a positive hop");
    }
    long count = 1 + ((long) Math.max(0, c.frames() - length) + hop - 1) / hop;
    long total = count * c.channels() * length;
    if (total > WavFiles.MAX_SAMPLES) {
      throw new MediaException(
          "cutting "
              + c.frames()
              + " frames into chunks of "
              + length
              + " every "
              + hop
              + " makes "
              + count
              + " chunks, "
              + total
              + " samples, more than cmod handles ("
              + WavFiles.MAX_SAMPLES
              + ")",
          "use a larger hop or a shorter recording");
    }
    float[] out = new float[(int) total];
    for (int k = 0; k < count; k++) {
      int start = k * hop;
      int n = Math.min(length, c.frames() - start);
      for (int ch = 0; ch < c.channels(); ch++) {
        System.arraycopy(c.samples()[ch], start, out, (k * c.channels() + ch) * length, n);
      }
    }
    return new Chunks((int) count, c.channels(), length, out);
  }

  private static void checkLength(int length, int channels, String step) {
    if (length <= 0) {
      throw new MediaException(
          step + " to " + length + " frames", "give a positive length in frames");
    }
    if ((long) length * channels > WavFiles.MAX_SAMPLES) {
      throw new MediaException(
          step
              + " to "
              + length
              + " frames of "
              + channels
              + " channel(s) is more than cmod"
              + " handles",
          "give a shorter length");
    }
  }
}
