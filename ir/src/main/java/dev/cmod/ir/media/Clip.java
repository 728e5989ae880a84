package dev.cmod.ir.media;

/**
 * Audio as a model sees it: float samples per channel at a sample rate, {@code samples[c][i]} the
 * {@code i}-th frame of channel {@code c}, in [-1, 1] after decoding. Every audio step reads and
 * writes clips; the rate travels with the samples so that resampling knows where it starts.
 *
 * @param rate samples per second of every channel
 * @param samples one array per channel, all of the same length
 */
public record Clip(int rate, float[][] samples) {
  /** Checks that there is a channel, the rate is positive and the channels are equally long. */
  public Clip {
    if (samples.length == 0) {
      throw new MediaException(
          "the audio has no channels", "give a recording with at least one channel");
    }
    if (rate <= 0) {
      throw new MediaException(
          "the audio's sample rate is " + rate + " Hz", "give a recording with a positive rate");
    }
    for (float[] c : samples) {
      if (c.length != samples[0].length) {
        throw new IllegalArgumentException("channels of different lengths");
      }
    }
  }

  /** The number of channels. */
  public int channels() {
    return samples.length;
  }

  /** The number of frames (samples per channel). */
  public int frames() {
    return samples[0].length;
  }

  /** The samples channel after channel, the {@code [channels, frames]} layout of a tensor. */
  public float[] flat() {
    float[] out = new float[channels() * frames()];
    for (int c = 0; c < channels(); c++) {
      System.arraycopy(samples[c], 0, out, c * frames(), frames());
    }
    return out;
  }
}
