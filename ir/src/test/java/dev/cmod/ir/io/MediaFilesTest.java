package dev.cmod.ir.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image and WAV decoding against independent implementations: PIL (with numpy) decodes every
 * picture and Python's {@code wave} module with numpy writes and reads every clip, in a Python run
 * by the test; the oracle arrays come back as {@code .npy} files.
 */
class MediaFilesTest {
  @TempDir Path dir;

  private void python(String script) throws Exception {
    Need.runPython(dir, script);
  }

  @Test
  void imagesDecodeAsPilDoes() throws Exception {
    Need.PIL.require();
    python(
        """
        import numpy as np
        from PIL import Image
        rng = np.random.default_rng(7)
        rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
        Image.fromarray(rgb, 'RGB').save('rgb.png')
        Image.fromarray(rgb, 'RGB').save('rgb.bmp')
        Image.fromarray(rgb, 'RGB').save('rgb.jpg', quality=95)
        Image.fromarray(np.dstack([rgb, rgb[:, :, :1]]), 'RGBA').save('rgba.png')
        Image.fromarray(rgb[:, :, 0], 'L').save('grey.png')
        Image.fromarray(rgb, 'RGB').convert('P', palette=Image.ADAPTIVE, colors=16).save('pal.gif')
        def chw(img, mode):
            a = np.asarray(img.convert(mode), dtype=np.float32) / 255.0
            return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        for name in ['rgb.png', 'rgb.bmp', 'rgb.jpg', 'rgba.png', 'grey.png', 'pal.gif']:
            img = Image.open(name)
            np.save(name + '.rgb.npy', chw(img, 'RGB'))
            np.save(name + '.l.npy', chw(img, 'L'))
        np.save('rgba.png.rgba.npy', chw(Image.open('rgba.png'), 'RGBA'))
        """);
    for (String f : List.of("rgb.png", "rgb.bmp", "rgba.png", "grey.png", "pal.gif", "rgb.jpg")) {
      ImageFiles.Picture pic = ImageFiles.read(dir.resolve(f));
      assertEquals(7, pic.width(), f);
      assertEquals(5, pic.height(), f);
      // JPEG decoders differ in their inverse DCT: a level or two of 255 apart
      float tol = f.endsWith(".jpg") ? 3 / 255f : 1e-6f;
      assertClose(Npy.read(dir.resolve(f + ".rgb.npy")), ImageFiles.toTensor(pic, 3), tol, f);
      assertClose(Npy.read(dir.resolve(f + ".l.npy")), ImageFiles.toTensor(pic, 1), tol, f);
    }
    assertClose(
        Npy.read(dir.resolve("rgba.png.rgba.npy")),
        ImageFiles.toTensor(ImageFiles.read(dir.resolve("rgba.png")), 4),
        1e-6f,
        "rgba");
  }

  private static void assertClose(Tensor want, Tensor got, float tol, String what) {
    assertArrayEquals(want.shape(), got.shape(), what);
    assertArrayEquals(want.floats(), got.floats(), tol, what);
  }

  @Test
  void whatIsNoImageIsRefusedClearly() throws Exception {
    Path junk = dir.resolve("junk.png");
    Files.write(junk, new byte[] {1, 2, 3, 4, 5});
    TensorFileException e = assertThrows(TensorFileException.class, () -> ImageFiles.read(junk));
    assertTrue(e.getMessage().startsWith("not an image cmod can decode"), e.getMessage());
    // a PNG header that claims 100000 × 100000 pixels: refused from the header, no pixel read
    byte[] header = {
      (byte) 0x89,
      'P',
      'N',
      'G',
      '\r',
      '\n',
      0x1a,
      '\n',
      0,
      0,
      0,
      13,
      'I',
      'H',
      'D',
      'R',
      0,
      1,
      (byte) 0x86,
      (byte) 0xa0,
      0,
      1,
      (byte) 0x86,
      (byte) 0xa0,
      8,
      2,
      0,
      0,
      0,
      0,
      0,
      0,
      0
    };
    Path bomb = dir.resolve("bomb.png");
    Files.write(bomb, header);
    e = assertThrows(TensorFileException.class, () -> ImageFiles.read(bomb));
    assertTrue(
        e.getMessage().contains("more than cmod decodes")
            || e.getMessage().contains("cannot be decoded"),
        e.getMessage());
  }

  @Test
  void wavClipsDecodeAsPythonReadsThem() throws Exception {
    Need.PIL.require(); // numpy
    python(
        """
        import numpy as np, wave, struct
        rng = np.random.default_rng(3)
        x = rng.uniform(-1, 1, (2, 50))
        def pcm(name, bits):
            if bits == 8:
                q = np.clip(np.round(x * 127) + 128, 0, 255).astype(np.uint8)
                ref = (q.astype(np.float64) - 128) / 128
                data = q.T.tobytes()
            else:
                m = 2 ** (bits - 1)
                q = np.clip(np.round(x * (m - 1)), -m, m - 1).astype(np.int64)
                ref = q / m
                b = q.T.astype('<i8').tobytes()
                k = bits // 8
                data = b''.join(b[i:i + k] for i in range(0, len(b), 8))
            w = wave.open(name, 'wb'); w.setnchannels(2); w.setsampwidth(bits // 8)
            w.setframerate(16000); w.writeframes(data); w.close()
            np.save(name + '.npy', ref.astype(np.float32))
        for bits in (8, 16, 24, 32):
            pcm('pcm%d.wav' % bits, bits)
        f = x.astype('<f4')
        body = f.T.tobytes()
        fmt = struct.pack('<HHIIHH', 3, 2, 22050, 22050 * 8, 8, 32)
        with open('float.wav', 'wb') as out:
            out.write(b'RIFF' + struct.pack('<I', 4 + 8 + 16 + 8 + len(body)) + b'WAVE')
            out.write(b'fmt ' + struct.pack('<I', 16) + fmt)
            out.write(b'data' + struct.pack('<I', len(body)) + body)
        np.save('float.wav.npy', f.astype(np.float32))
        """);
    for (String f : List.of("pcm8.wav", "pcm16.wav", "pcm24.wav", "pcm32.wav", "float.wav")) {
      WavFiles.Audio a = WavFiles.read(dir.resolve(f));
      Tensor want = Npy.read(dir.resolve(f + ".npy"));
      assertEquals(2, a.channels(), f);
      assertEquals(50, a.frames(), f);
      assertEquals(f.equals("float.wav") ? 22050 : 16000, a.sampleRate(), f);
      for (int c = 0; c < 2; c++) {
        for (int i = 0; i < 50; i++) {
          assertEquals(want.floats()[c * 50 + i], a.samples()[c][i], 1e-6f, f + " " + c + "," + i);
        }
      }
      assertEquals((a.samples()[0][3] + a.samples()[1][3]) / 2, a.mono()[3], 1e-7f);
    }
  }

  @Test
  void wavEncodingsCmodDoesNotDecodeAreNamed() throws Exception {
    byte[] alaw = new byte[44];
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(alaw).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes()).putInt(36).put("WAVE".getBytes()).put("fmt ".getBytes()).putInt(16);
    b.putShort((short) 6).putShort((short) 1).putInt(8000).putInt(8000).putShort((short) 1);
    b.putShort((short) 8).put("data".getBytes()).putInt(0);
    TensorFileException e = assertThrows(TensorFileException.class, () -> WavFiles.decode(alaw));
    assertTrue(e.getMessage().contains("format 6 with 8-bit samples"), e.getMessage());
    e = assertThrows(TensorFileException.class, () -> WavFiles.decode(new byte[] {1, 2, 3}));
    assertTrue(e.getMessage().startsWith("not a WAV file"), e.getMessage());
  }
}
