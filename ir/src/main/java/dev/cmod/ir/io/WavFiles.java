package dev.cmod.ir.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * WAV files as model inputs: RIFF/WAVE with PCM samples of 8 (unsigned), 16, 24 or 32 bits or IEEE
 * floats of 32 or 64 bits (also in the extensible format), decoded to floats in [-1, 1] — an
 * integer sample divided by 2^(bits-1) (8-bit ones first centred on 128), which is what soundfile
 * and torchaudio give. Everything is read from the bytes with the sizes checked against the file,
 * so a header that claims more data than there is, or an encoding cmod does not decode (µ-law,
 * ADPCM...), is a clear refusal.
 */
public final class WavFiles {
  private WavFiles() {}

  /** The largest WAV file read. */
  public static final long MAX_FILE_BYTES = 1L << 30;

  /**
   * The most samples (all channels together) decoded: 2^28, an hour of 48 kHz audio in 26 channels.
   */
  public static final long MAX_SAMPLES = 1L << 28;

  /** Whether {@code file}'s name says it is a WAV file. */
  public static boolean isWav(Path file) {
    String n = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase();
    return n.endsWith(".wav") || n.endsWith(".wave");
  }

  /** Decoded audio: {@code samples[channel][frame]} and the sample rate in Hz. */
  public record Audio(int sampleRate, float[][] samples) {
    public int channels() {
      return samples.length;
    }

    public int frames() {
      return samples.length == 0 ? 0 : samples[0].length;
    }

    /** The channels mixed to one (their mean), as a mono recording is made from several. */
    public float[] mono() {
      if (samples.length == 1) {
        return samples[0];
      }
      float[] m = new float[frames()];
      for (int i = 0; i < m.length; i++) {
        double s = 0;
        for (float[] c : samples) {
          s += c[i];
        }
        m[i] = (float) (s / samples.length);
      }
      return m;
    }
  }

  /**
   * Reads and decodes {@code file}.
   *
   * @throws TensorFileException when it cannot be read, is not a WAV file, or uses an encoding cmod
   *     does not decode
   */
  public static Audio read(Path file) {
    byte[] data;
    try {
      data = SafeFiles.readAll(file, SafeFiles.Policy.USER, MAX_FILE_BYTES);
    } catch (IOException e) {
      throw new TensorFileException("cannot read it: " + SafeFiles.describe(e), e);
    }
    return decode(data);
  }

  /** Decodes the bytes of a WAV file. */
  public static Audio decode(byte[] data) {
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    if (data.length < 12 || !tag(b, 0, "RIFF") || !tag(b, 8, "WAVE")) {
      throw new TensorFileException("not a WAV file (no RIFF/WAVE header)");
    }
    int format = -1;
    int channels = 0;
    int rate = 0;
    int bits = 0;
    int blockAlign = 0;
    int dataAt = -1;
    long dataLen = 0;
    long at = 12;
    while (at + 8 <= data.length) {
      int p = (int) at;
      long len = b.getInt(p + 4) & 0xffffffffL;
      long body = at + 8L;
      if (tag(b, p, "fmt ")) {
        if (len < 16 || body + len > data.length) {
          throw new TensorFileException("the WAV file's format chunk is cut short");
        }
        format = b.getShort((int) body) & 0xffff;
        channels = b.getShort((int) body + 2) & 0xffff;
        rate = b.getInt((int) body + 4);
        blockAlign = b.getShort((int) body + 12) & 0xffff;
        bits = b.getShort((int) body + 14) & 0xffff;
        if (format == 0xFFFE && len >= 26) {
          format = b.getShort((int) body + 24) & 0xffff; // the sub-format GUID's first two bytes
        }
      } else if (tag(b, p, "data")) {
        dataAt = (int) body;
        // a streamed file may leave the size unset: take what the file holds
        dataLen = Math.min(len, data.length - body);
        break;
      }
      at = body + len + (len & 1);
    }
    if (format < 0) {
      throw new TensorFileException("the WAV file has no format chunk");
    }
    if (dataAt < 0) {
      throw new TensorFileException("the WAV file has no data chunk");
    }
    boolean pcm = format == 1 && (bits == 8 || bits == 16 || bits == 24 || bits == 32);
    boolean flt = format == 3 && (bits == 32 || bits == 64);
    if (!pcm && !flt) {
      throw new TensorFileException(
          "the WAV file's encoding is "
              + encoding(format, bits)
              + " (format "
              + format
              + " with "
              + bits
              + "-bit samples); cmod decodes PCM of 8, 16, 24 or 32 bits and 32- or 64-bit floats"
              + " (convert it, e.g. sox in.wav -e signed -b 16 out.wav)");
    }
    if (channels <= 0 || rate <= 0 || blockAlign != channels * (bits / 8)) {
      throw new TensorFileException(
          "the WAV file's header is inconsistent ("
              + channels
              + " channels, "
              + rate
              + " Hz, "
              + blockAlign
              + "-byte frames of "
              + bits
              + "-bit samples)");
    }
    if (dataLen / (bits / 8) > MAX_SAMPLES) {
      throw new TensorFileException(
          "the WAV file holds "
              + dataLen / (bits / 8)
              + " samples, more than cmod decodes ("
              + MAX_SAMPLES
              + ")");
    }
    int frames = (int) (dataLen / blockAlign);
    float[][] out = new float[channels][frames];
    int bytes = bits / 8;
    for (int f = 0; f < frames; f++) {
      for (int c = 0; c < channels; c++) {
        int p = dataAt + f * blockAlign + c * bytes;
        out[c][f] = sample(b, p, bits, flt);
      }
    }
    return new Audio(rate, out);
  }

  private static float sample(ByteBuffer b, int p, int bits, boolean flt) {
    if (flt) {
      return bits == 32 ? b.getFloat(p) : (float) b.getDouble(p);
    }
    return switch (bits) {
      case 8 -> ((b.get(p) & 0xff) - 128) / 128f;
      case 16 -> b.getShort(p) / 32768f;
      case 24 -> {
        int v = (b.get(p) & 0xff) | (b.get(p + 1) & 0xff) << 8 | b.get(p + 2) << 16;
        yield v / 8388608f;
      }
      default -> (float) (b.getInt(p) / 2147483648.0);
    };
  }

  /** A person's name for a WAV format code cmod does not decode. */
  private static String encoding(int format, int bits) {
    return switch (format) {
      case 1 -> bits + "-bit PCM";
      case 2 -> "Microsoft ADPCM";
      case 3 -> bits + "-bit float";
      case 6 -> "A-law";
      case 7 -> "µ-law";
      case 0x11 -> "IMA ADPCM";
      case 0x31 -> "GSM 6.10";
      case 0x50, 0x55 -> "MPEG audio (compressed)";
      case 0xFFFE -> "an extensible format with an unknown sub-format";
      default -> "a compressed or vendor encoding";
    };
  }

  private static boolean tag(ByteBuffer b, int at, String t) {
    for (int i = 0; i < 4; i++) {
      if (b.get(at + i) != t.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
