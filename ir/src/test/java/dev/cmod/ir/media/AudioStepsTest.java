package dev.cmod.ir.media;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every audio step against an independent implementation in Debian's Python: numpy reads the bytes
 * of WAV files the script writes in every encoding cmod decodes, and computes mono mixing, padding,
 * trimming and chunking; SciPy's {@code resample_poly} resamples. Arrays travel as {@code .npy}
 * files and must agree to 1e-5.
 */
class AudioStepsTest {
  private static final float TOL = 1e-5f;

  @TempDir Path dir;

  private float[][] want(String name) {
    Tensor t = Npy.read(dir.resolve(name + ".npy"));
    long[] s = t.shape();
    int c = (int) s[0];
    int n = (int) s[1];
    float[][] out = new float[c][n];
    for (int i = 0; i < c; i++) {
      System.arraycopy(t.floats(), i * n, out[i], 0, n);
    }
    return out;
  }

  private static void assertSamples(String what, float[][] want, float[][] got) {
    assertEquals(want.length, got.length, what + " channels");
    for (int c = 0; c < want.length; c++) {
      assertEquals(want[c].length, got[c].length, what + " frames");
      for (int i = 0; i < want[c].length; i++) {
        if (Math.abs(want[c][i] - got[c][i]) > TOL) {
          throw new AssertionError(
              what + ": channel " + c + " frame " + i + " is " + got[c][i] + ", not " + want[c][i]);
        }
      }
    }
  }

  @Test
  void wavDecodesAsNumpyReadsTheBytes() throws Exception {
    Need.PIL.require(); // numpy
    Need.runPython(
        dir,
        """
        import numpy as np, struct
        rng = np.random.default_rng(5)
        x = rng.uniform(-1, 1, (3, 64))
        def write(name, tag, bits, body, extensible):
            block = 3 * bits // 8
            if extensible:
                guid = struct.pack('<H', tag) + bytes.fromhex('000000001000800000aa00389b71')
                fmt = struct.pack('<HHIIHHHHI', 0xFFFE, 3, 8000, 8000 * block, block, bits,
                                  22, bits, 7) + guid
            else:
                fmt = struct.pack('<HHIIHH', tag, 3, 8000, 8000 * block, block, bits)
            with open(name, 'wb') as f:
                f.write(b'RIFF' + struct.pack('<I', 4 + 8 + len(fmt) + 8 + len(body)) + b'WAVE')
                f.write(b'fmt ' + struct.pack('<I', len(fmt)) + fmt)
                f.write(b'LIST' + struct.pack('<I', 3) + b'abc\\0')  # an odd chunk, padded
                f.write(b'data' + struct.pack('<I', len(body)) + body)
        for ext in (False, True):
            for bits in (8, 16, 24, 32):
                if bits == 8:
                    q = np.clip(np.round(x * 127) + 128, 0, 255).astype(np.uint8)
                    body = q.T.tobytes()
                    ref = (np.frombuffer(body, np.uint8).reshape(64, 3).T.astype(np.float64)
                           - 128) / 128
                else:
                    m = 2 ** (bits - 1)
                    q = np.clip(np.round(x * m), -m, m - 1).astype('<i4')
                    k = bits // 8
                    b = q.T.tobytes()
                    body = b''.join(b[i:i + k] for i in range(0, len(b), 4))
                    raw = np.frombuffer(body, np.uint8).reshape(-1, k)
                    # numpy's own reading of the little-endian bytes, sign-extended
                    wide = np.zeros((raw.shape[0], 4), np.uint8)
                    wide[:, 4 - k:] = raw
                    ref = (np.frombuffer(wide.tobytes(), '<i4') // (1 << (8 * (4 - k))))
                    ref = ref.reshape(64, 3).T / m
                name = 'pcm%d%s.wav' % (bits, 'x' if ext else '')
                write(name, 1, bits, body, ext)
                np.save(name + '.npy', np.ascontiguousarray(ref, np.float32))
            for bits, dt in ((32, '<f4'), (64, '<f8')):
                body = x.T.astype(dt).tobytes()
                name = 'float%d%s.wav' % (bits, 'x' if ext else '')
                write(name, 3, bits, body, ext)
                ref = np.frombuffer(body, dt).reshape(64, 3).T
                np.save(name + '.npy', np.ascontiguousarray(ref, np.float32))
        """);
    for (String ext : new String[] {"", "x"}) {
      for (String n : new String[] {"pcm8", "pcm16", "pcm24", "pcm32", "float32", "float64"}) {
        String f = n + ext + ".wav";
        Clip c = MediaFiles.readWav(dir.resolve(f));
        assertEquals(8000, c.rate(), f);
        assertSamples(f, want(f), c.samples());
      }
    }
  }

  @Test
  void mixPadTrimAndChunkAsNumpy() throws Exception {
    Need.PIL.require(); // numpy
    Need.runPython(
        dir,
        """
        import numpy as np
        rng = np.random.default_rng(9)
        x = rng.uniform(-1, 1, (2, 1000)).astype(np.float32)
        np.save('x.npy', x)
        np.save('mono.npy', x.mean(axis=0, keepdims=True))
        np.save('pad.npy', np.pad(x, ((0, 0), (0, 600))))
        np.save('trim.npy', x[:, :256])
        def chunks(x, L, H):
            n = x.shape[1]
            count = 1 + -(-max(0, n - L) // H)
            padded = np.zeros((x.shape[0], (count - 1) * H + L), np.float32)
            padded[:, :min(n, padded.shape[1])] = x[:, :padded.shape[1]]
            return np.stack([padded[:, k * H:k * H + L] for k in range(count)])
        for L, H in ((300, 100), (400, 400), (256, 300), (2000, 50), (1000, 7)):
            np.save('chunks_%d_%d.npy' % (L, H), chunks(x, L, H).reshape(1, -1))
        """);
    Clip x = new Clip(16000, want("x"));
    assertSamples("mono", want("mono"), AudioSteps.mono(x).samples());
    assertSamples("pad", want("pad"), AudioSteps.padOrTrim(x, 1600).samples());
    assertSamples("trim", want("trim"), AudioSteps.padOrTrim(x, 256).samples());
    int[][] cuts = {{300, 100}, {400, 400}, {256, 300}, {2000, 50}, {1000, 7}};
    for (int[] lh : cuts) {
      String name = "chunks_" + lh[0] + "_" + lh[1];
      AudioSteps.Chunks ch = AudioSteps.chunks(x, lh[0], lh[1]);
      assertEquals(2, ch.channels(), name);
      assertEquals(lh[0], ch.length(), name);
      assertSamples(name, want(name), new float[][] {ch.data()});
    }
  }

  @Test
  void resamplingIsScipysResamplePoly() throws Exception {
    Need.SCIPY.require();
    int[][] rates = {
      {8000, 16000},
      {44100, 16000},
      {48000, 16000},
      {22050, 16000},
      {11025, 16000},
      {16000, 44100},
      {16000, 16000},
      {7, 5}
    };
    StringBuilder py =
        new StringBuilder(
            """
            import numpy as np
            from scipy.signal import resample_poly
            from math import gcd
            rng = np.random.default_rng(13)
            def run(a, b):
                n = a // 10 + 3 if a > 100 else 50
                t = np.arange(n) / a
                # a tone below both Nyquist frequencies, one above the lower, and noise
                x = np.stack([np.sin(2 * np.pi * 440 * t) * 0.5 + rng.uniform(-0.2, 0.2, n),
                              np.sin(2 * np.pi * 0.45 * max(a, b) * t) * 0.3])
                x = x.astype(np.float32)
                np.save('x_%d_%d.npy' % (a, b), x)
                g = gcd(a, b)
                y = resample_poly(x.astype(np.float64), b // g, a // g, axis=1)
                np.save('y_%d_%d.npy' % (a, b), y.astype(np.float32))
            """);
    for (int[] r : rates) {
      py.append("run(%d, %d)\n".formatted(r[0], r[1]));
    }
    Need.runPython(dir, py.toString());
    for (int[] r : rates) {
      String tag = r[0] + "_" + r[1];
      Clip in = new Clip(r[0], want("x_" + tag));
      Clip out = AudioSteps.resample(in, r[1]);
      assertEquals(r[1], out.rate(), tag);
      assertSamples("resampled " + tag, want("y_" + tag), out.samples());
    }
  }

  @Test
  void filterDesignByHand() {
    // I0(0) = 1, I0(1) = 1.2660658777520082 (Abramowitz & Stegun table 9.8)
    assertEquals(1.0, PolyphaseResampler.besselI0(0), 0);
    assertEquals(1.2660658777520082, PolyphaseResampler.besselI0(1), 1e-15);
    double[] h = PolyphaseResampler.design(21, 0.5);
    double sum = 0;
    for (double v : h) {
      sum += v;
    }
    assertEquals(1.0, sum, 1e-12); // unit gain at 0 Hz
    assertEquals(h[3], h[17], 0); // linear phase: symmetric
    assertEquals(0.0, h[10 + 2], 1e-16); // a zero of sinc(m / 2) at m = 2
  }
}
