package dev.cmod.ir.media;

import dev.cmod.ir.io.ImageFiles;
import dev.cmod.ir.io.TensorFileException;
import dev.cmod.ir.io.WavFiles;
import java.nio.file.Path;

/**
 * Decoding media files into what the steps take, with the bounds they assume: an image into {@link
 * Planes} in [0, 1] (the decoders of {@link ImageFiles}), a WAV file into a {@link Clip} in [-1, 1]
 * ({@link WavFiles}). Every failure is a {@link MediaException} saying what the file is and what to
 * do; sizes are checked from the headers before the pixels or samples are allocated.
 */
public final class MediaFiles {
  private MediaFiles() {}

  /** The most pixels an image may have, decoded or made by a step: 100 megapixels. */
  public static final long MAX_PIXELS = 100_000_000L;

  private static final String IMAGE_HELP =
      "cmod decodes PNG, JPEG, BMP and GIF pictures of at most "
          + MAX_PIXELS
          + " pixels; convert or downscale the file first (e.g. convert in.webp -resize 4096x4096"
          + " out.png)";

  private static final String WAV_HELP =
      "cmod decodes RIFF/WAVE files with PCM samples of 8, 16, 24 or 32 bits or floats of 32 or"
          + " 64 bits; convert others first (e.g. sox in.wav -e signed -b 16 out.wav)";

  /**
   * Decodes the image {@code file} into {@code channels} planes of values in [0, 1]: 3 for RGB, 1
   * for grey (PIL's luma of the 8-bit colours, as {@code convert("L")}), 4 for RGBA. A palette or
   * grey picture is expanded to RGB, an alpha channel dropped unless 4 channels are asked for.
   *
   * @throws MediaException when the file cannot be read or decoded or has more than {@link
   *     #MAX_PIXELS} pixels
   */
  public static Planes readImage(Path file, int channels) {
    if (channels != 1 && channels != 3 && channels != 4) {
      throw new MediaException(
          "an image gives 1 (grey), 3 (RGB) or 4 (RGBA) channels, not " + channels,
          "declare the input with 1, 3 or 4 channels");
    }
    try {
      return Planes.of(ImageFiles.toTensor(ImageFiles.read(file, MAX_PIXELS), channels));
    } catch (TensorFileException e) {
      throw new MediaException(name(file) + ": " + e.getMessage(), IMAGE_HELP, e);
    }
  }

  /**
   * Decodes the WAV file {@code file} into a clip of every channel it has, at its own rate.
   *
   * @throws MediaException when the file cannot be read, is not WAV, uses an encoding cmod does not
   *     decode (named in the message), holds no samples or too many
   */
  public static Clip readWav(Path file) {
    try {
      return clip(name(file), WavFiles.read(file));
    } catch (TensorFileException e) {
      throw new MediaException(name(file) + ": " + e.getMessage(), WAV_HELP, e);
    }
  }

  /** The same for the bytes of a WAV file, {@code what} naming it in messages. */
  public static Clip decodeWav(String what, byte[] data) {
    try {
      return clip(what, WavFiles.decode(data));
    } catch (TensorFileException e) {
      throw new MediaException(what + ": " + e.getMessage(), WAV_HELP, e);
    }
  }

  private static Clip clip(String what, WavFiles.Audio a) {
    if (a.frames() == 0) {
      throw new MediaException(
          what + ": the WAV file holds no samples", "give a recording that is not empty");
    }
    return new Clip(a.sampleRate(), a.samples());
  }

  private static String name(Path file) {
    return String.valueOf(file.getFileName());
  }
}
