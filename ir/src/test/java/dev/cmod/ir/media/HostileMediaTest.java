package dev.cmod.ir.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.testkit.Need;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad and hostile input: damaged files, headers that claim enormous sizes, encodings cmod does not
 * decode, rates that cannot be resampled, steps whose parameters would allocate without bound. Each
 * must be a {@link MediaException} with a message that names the problem and a help text, within a
 * second, never another exception and never the allocation it describes.
 */
class HostileMediaTest {
  @TempDir Path dir;

  private static MediaException refused(String expect, Executable e) {
    MediaException m =
        assertTimeoutPreemptively(
            Duration.ofSeconds(5), () -> assertThrows(MediaException.class, e), expect);
    assertTrue(m.getMessage().contains(expect), m.getMessage() + " (expected: " + expect + ")");
    assertFalse(m.help().isBlank(), "help for " + m.getMessage());
    return m;
  }

  // ---------------------------------------------------------------------------------------------
  // images

  @Test
  void damagedImagesAreRefused() throws Exception {
    Need.PIL.require();
    Need.runPython(
        dir,
        """
        import numpy as np
        from PIL import Image
        a = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        Image.fromarray(a).save('ok.png')
        Image.fromarray(a).save('ok.jpg')
        Image.fromarray(a).save('ok.bmp')
        Image.fromarray(a).convert('P').save('ok.gif')
        """);
    for (String f : new String[] {"ok.png", "ok.jpg", "ok.bmp", "ok.gif"}) {
      assertEquals(64, MediaFiles.readImage(dir.resolve(f), 3).width(), f); // whole, it decodes
      byte[] all = Files.readAllBytes(dir.resolve(f));
      Path cut = dir.resolve("cut-" + f);
      Files.write(cut, Arrays.copyOf(all, all.length / 2));
      refused("cut-" + f, () -> MediaFiles.readImage(cut, 3));
    }
    Path junk = dir.resolve("junk.png");
    Files.write(junk, "not a picture".getBytes(StandardCharsets.UTF_8));
    refused("not an image cmod can decode", () -> MediaFiles.readImage(junk, 3));
    refused("not 2", () -> MediaFiles.readImage(junk, 2));
  }

  @Test
  void aHugePngHeaderIsRefusedBeforeDecoding() throws Exception {
    Path bomb = dir.resolve("bomb.png");
    Files.write(bomb, pngHeader(60000, 60000));
    refused("more than cmod decodes (100000000 pixels)", () -> MediaFiles.readImage(bomb, 3));
  }

  /** A PNG signature and a valid IHDR chunk claiming {@code w × h} RGB pixels, and nothing else. */
  private static byte[] pngHeader(int w, int h) {
    ByteBuffer ihdr = ByteBuffer.allocate(17);
    ihdr.put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(w).putInt(h);
    ihdr.put(new byte[] {8, 2, 0, 0, 0});
    CRC32 crc = new CRC32();
    crc.update(ihdr.array());
    ByteBuffer b = ByteBuffer.allocate(8 + 4 + 17 + 4);
    b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    b.putInt(13).put(ihdr.array()).putInt((int) crc.getValue());
    return b.array();
  }

  @Test
  void imageStepsBoundWhatTheyMake() {
    // a line of 10 million pixels shrunk to 10: each output pixel's lanczos kernel spans 6 million
    Planes line = new Planes(1, 1, 10_000_000, new float[10_000_000]);
    refused(
        "needs 60000010 filter weights",
        () -> ImageSteps.resize(line, 1, 10, Interpolation.LANCZOS));
    Planes p = new Planes(3, 4, 4, new float[48]);
    refused(
        "larger than cmod handles",
        () -> ImageSteps.resize(p, 20000, 20000, Interpolation.BILINEAR));
    refused(
        "makes the other side",
        () ->
            ImageSteps.resizeShorter(
                new Planes(1, 1, 3000, new float[3000]), 1_000_000, Interpolation.NEAREST));
    refused(
        "larger than cmod handles",
        () -> ImageSteps.resizeShorter(p, 20000, Interpolation.NEAREST));
    refused("center crop to 3 × 0", () -> ImageSteps.centerCrop(p, 0, 3));
    refused("larger than the 2 × 2", () -> ImageSteps.pad(p, 2, 2, 0f));
    refused("gives 2 values", () -> ImageSteps.normalize(p, new float[2], new float[] {1}));
    refused("std of 0.0", () -> ImageSteps.normalize(p, new float[1], new float[] {1, 0, 1}));
    refused("no interpolation 'spline'", () -> Interpolation.named("spline"));
    refused("takes 3 channel(s)", () -> ImageSteps.toGray(new Planes(4, 1, 1, new float[4])));
  }

  // ---------------------------------------------------------------------------------------------
  // audio

  /** A WAV file with the given format fields and {@code data} bytes of samples. */
  private static byte[] wav(int format, int channels, int rate, int bits, int dataBytes) {
    int block = channels * Math.max(1, bits / 8);
    ByteBuffer b = ByteBuffer.allocate(44 + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + dataBytes);
    b.put("WAVEfmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16);
    b.putShort((short) format).putShort((short) channels).putInt(rate).putInt(rate * block);
    b.putShort((short) block).putShort((short) bits);
    b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(dataBytes);
    return b.array();
  }

  @Test
  void wavEncodingsCmodDoesNotDecodeAreNamed() {
    refused("A-law", () -> MediaFiles.decodeWav("a.wav", wav(6, 1, 8000, 8, 100)));
    refused("µ-law", () -> MediaFiles.decodeWav("u.wav", wav(7, 1, 8000, 8, 100)));
    refused("12-bit PCM", () -> MediaFiles.decodeWav("p.wav", wav(1, 1, 8000, 12, 100)));
    refused("IMA ADPCM", () -> MediaFiles.decodeWav("i.wav", wav(0x11, 1, 8000, 4, 100)));
    refused(
        "MPEG audio (compressed)",
        () -> MediaFiles.decodeWav("m.wav", wav(0x55, 2, 44100, 0, 100)));
    refused("16-bit float", () -> MediaFiles.decodeWav("h.wav", wav(3, 1, 8000, 16, 100)));
  }

  @Test
  void damagedWavFilesAreRefused() throws Exception {
    refused("0 channels", () -> MediaFiles.decodeWav("z.wav", wav(1, 0, 8000, 16, 100)));
    refused("0 Hz", () -> MediaFiles.decodeWav("r.wav", wav(1, 1, 0, 16, 100)));
    refused("holds no samples", () -> MediaFiles.decodeWav("e.wav", wav(1, 2, 8000, 16, 0)));
    byte[] ok = wav(1, 1, 8000, 16, 100);
    refused(
        "format chunk is cut short", () -> MediaFiles.decodeWav("c.wav", Arrays.copyOf(ok, 30)));
    refused("no format chunk", () -> MediaFiles.decodeWav("c.wav", Arrays.copyOf(ok, 12)));
    refused("no RIFF/WAVE header", () -> MediaFiles.decodeWav("c.wav", Arrays.copyOf(ok, 7)));
    // a chunk that claims 4 GiB before the format chunk
    ByteArrayOutputStream huge = new ByteArrayOutputStream();
    huge.write(Arrays.copyOf(ok, 12));
    huge.write("junk".getBytes(StandardCharsets.US_ASCII));
    huge.write(new byte[] {-1, -1, -1, -1});
    huge.write(Arrays.copyOfRange(ok, 12, ok.length));
    refused("no format chunk", () -> MediaFiles.decodeWav("j.wav", huge.toByteArray()));
    Path missing = dir.resolve("missing.wav");
    refused("missing.wav: cannot read it", () -> MediaFiles.readWav(missing));
  }

  @Test
  void ratesThatCannotBeResampledAreRefused() {
    Clip c = new Clip(16000, new float[][] {new float[100]});
    refused("a rate must be 1 to 1000000 Hz", () -> AudioSteps.resample(c, 0));
    refused("a rate must be 1 to 1000000 Hz", () -> AudioSteps.resample(c, 2_000_000));
    refused(
        "more than a factor of 1000", () -> AudioSteps.resample(new Clip(8, c.samples()), 16000));
    refused(
        "reduces to 16000/999983", () -> AudioSteps.resample(new Clip(999983, c.samples()), 16000));
    refused("has no channels", () -> new Clip(16000, new float[0][]));
  }

  @Test
  void audioStepsBoundWhatTheyMake() {
    Clip c = new Clip(16000, new float[][] {new float[1_000_000]});
    refused("984001 chunks", () -> AudioSteps.chunks(c, 16000, 1));
    refused("a hop of 0 frames", () -> AudioSteps.chunks(c, 16000, 0));
    refused("chunks to 0 frames", () -> AudioSteps.chunks(c, 0, 10));
    refused("more than cmod handles", () -> AudioSteps.padOrTrim(c, Integer.MAX_VALUE));
    refused("pad or trim to -1 frames", () -> AudioSteps.padOrTrim(c, -1));
  }
}
