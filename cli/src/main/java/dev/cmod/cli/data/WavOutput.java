package dev.cmod.cli.data;

import dev.cmod.ir.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An audio output as a WAV file a player opens: samples {@code [T]} (mono) or {@code [C, T]}
 * (channels first, the layout {@link dev.cmod.ir.io.WavFiles} decodes to), at a sample rate the
 * declaration gives (a tensor does not carry one). Two encodings: 16-bit PCM, where a sample {@code
 * x} becomes {@code round(x · 32768)} clipped to [-32768, 32767] — the inverse of the decoder's
 * division by 32768, so a clip read and written again is unchanged — and 32-bit IEEE float, which
 * keeps the values exactly, also outside [-1, 1]. A NaN or infinite sample is refused: it is a
 * model fault, and writing it as silence would hide it.
 */
public final class WavOutput {
  private WavOutput() {}

  /** The sample encoding of the file. */
  public enum Format {
    PCM16,
    FLOAT32
  }

  /**
   * The bytes of the WAV file of {@code audio} at {@code sampleRate} Hz.
   *
   * @throws DataException when the tensor is not {@code [T]} or {@code [C, T]} floats, has a
   *     non-finite sample, or the rate is not positive
   */
  public static byte[] encode(Tensor audio, int sampleRate, Format format) {
    long[] s = audio.shape();
    if (!audio.isFloat() || (s.length != 1 && s.length != 2)) {
      throw new DataException(
          "an audio output is written from floats of shape [T] or [C, T]; this output is "
              + audio.dtype()
              + Arrays.toString(s),
          null);
    }
    if (sampleRate <= 0) {
      throw new DataException(
          "a WAV file needs a positive sample rate, not " + sampleRate, "declare the rate in Hz");
    }
    int channels = s.length == 1 ? 1 : (int) s[0];
    int frames = (int) s[s.length - 1];
    if (channels < 1 || channels > 65535) {
      throw new DataException("a WAV file holds 1 to 65535 channels, not " + channels, null);
    }
    int bytes = format == Format.PCM16 ? 2 : 4;
    long dataLen = (long) channels * frames * bytes;
    boolean flt = format == Format.FLOAT32;
    int fmtLen = flt ? 18 : 16;
    long total = 12 + 8 + fmtLen + (flt ? 12 : 0) + 8 + dataLen;
    if (total > Integer.MAX_VALUE - 8) {
      throw new DataException("the audio is too long for a WAV file (4 GB at most)", null);
    }
    ByteBuffer b = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    b.put(ascii("RIFF")).putInt((int) (total - 8)).put(ascii("WAVE"));
    b.put(ascii("fmt ")).putInt(fmtLen);
    b.putShort((short) (flt ? 3 : 1)).putShort((short) channels).putInt(sampleRate);
    b.putInt(sampleRate * channels * bytes).putShort((short) (channels * bytes));
    b.putShort((short) (bytes * 8));
    if (flt) {
      b.putShort((short) 0); // no extension; a non-PCM file also carries a fact chunk
      b.put(ascii("fact")).putInt(4).putInt(frames);
    }
    b.put(ascii("data")).putInt((int) dataLen);
    float[] f = audio.floats();
    for (int t = 0; t < frames; t++) {
      for (int c = 0; c < channels; c++) {
        float x = f[c * frames + t];
        if (!Float.isFinite(x)) {
          throw new DataException(
              "the audio has a " + x + " sample (channel " + c + ", sample " + t + ")",
              "the model produced it; check its input");
        }
        if (flt) {
          b.putFloat(x);
        } else {
          long v = Math.round(x * 32768.0);
          b.putShort((short) Math.max(-32768, Math.min(32767, v)));
        }
      }
    }
    return b.array();
  }

  private static byte[] ascii(String tag) {
    return tag.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }
}
