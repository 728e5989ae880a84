package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.testkit.E2E;
import java.io.BufferedInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample {@code samples/real/silero_vad.cmod} streams a real 16 kHz clip (speech, one second of
 * silence, speech: {@code samples/real/speech16k.wav}, made by {@code scripts/make-speech-clip.sh})
 * in 512-sample chunks with its state carried from chunk to chunk, exactly as the original Silero
 * VAD v5 file is used; each chunk's probability and state must equal the original file's on ONNX
 * Runtime (1e-5), and the probabilities must tell the speech from the silence.
 */
class SileroVadSampleTest {
  @TempDir Path dir;

  private static final int CHUNK = 512;

  @Test
  void streamsTheClipLikeTheOriginal() throws Exception {
    Path w = RealSamples.stage(dir, "silero_vad.cmod");
    Path model = RealSamples.fetchedInto(dir, "silero_vad_v5.onnx");
    float[] audio = read16kMono(RealSamples.sample("speech16k.wav"));
    int chunks = audio.length / CHUNK;
    Tensor sr = Tensor.ofLongs(DType.I64, new long[0], new long[] {16000});

    float[] want = new float[chunks];
    try (OnnxRunner original = OnnxRunner.open(model, OnnxRunner.Device.CPU)) {
      Tensor state = Tensor.ofFloats(new long[] {2, 1, 128}, new float[256]);
      List<Tensor> states = new ArrayList<>();
      for (int c = 0; c < chunks; c++) {
        Map<String, Tensor> out =
            original.run(Map.of("input", chunk(audio, c), "state", state, "sr", sr));
        want[c] = RealSamples.output(out, "output").floats()[0];
        state = RealSamples.output(out, "stateN");
        states.add(state);
      }
      for (int level : new int[] {0, 2}) {
        E2E.Built b = E2E.compileFile(w, E2E.opts(level));
        double maxProb = 0;
        double maxState = 0;
        try (OnnxRunner artifact = OnnxRunner.open(b.onnx(), OnnxRunner.Device.CPU)) {
          Tensor s = Tensor.ofFloats(new long[] {2, 1, 128}, new float[256]);
          for (int c = 0; c < chunks; c++) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("chunk", chunk(audio, c));
            in.put("state", s);
            Map<String, Tensor> out = artifact.run(in);
            Tensor p = RealSamples.output(out, "speech");
            s = RealSamples.output(out, "next_state");
            String at = "-O" + level + " chunk " + c;
            E2E.assertClose(
                Tensor.ofFloats(new long[] {1, 1}, new float[] {want[c]}), p, 0, 1e-5, at);
            E2E.assertClose(states.get(c), s, 0, 1e-5, at + " state");
            maxProb = Math.max(maxProb, Math.abs(p.floats()[0] - want[c]));
            maxState = Math.max(maxState, RealSamples.maxDiff(states.get(c), s));
          }
        }
        System.out.printf(
            "silero_vad.cmod -O%d: %d chunks, max |dp| %.3g, max |dstate| %.3g%n",
            level, chunks, maxProb, maxState);
      }
    }
    assertTellsSpeechFromSilence(audio, chunks, want);
  }

  /**
   * The command in the sample's comment: {@code cmod run} with the committed inputs (a chunk of the
   * clip, a zero state, the sample rate) gives the original file's outputs for them.
   */
  @Test
  void runsFromTheCommandLineOnTheCommittedInputs() throws Exception {
    Path w = RealSamples.stage(dir, "silero_vad.cmod");
    Path model = RealSamples.fetchedInto(dir, "silero_vad_v5.onnx");
    Path inputs = RealSamples.sample("inputs");
    Path out = dir.resolve("out");
    assertEquals(
        0,
        dev.cmod.cli.Main.execute(
            "run",
            w.toString(),
            "--input=chunk=" + inputs.resolve("vad_chunk.npy"),
            "--input=state=" + inputs.resolve("vad_state.npy"),
            "--output-dir=" + out));
    Map<String, Tensor> want =
        E2E.runOrt(
            Files.readAllBytes(model),
            Map.of(
                "input", Npy.read(inputs.resolve("vad_chunk.npy")),
                "state", Npy.read(inputs.resolve("vad_state.npy")),
                "sr", Npy.read(inputs.resolve("sr.npy"))));
    E2E.assertClose(want.get("output"), Npy.read(out.resolve("speech.npy")), 0, 1e-5, "speech");
    E2E.assertClose(
        want.get("stateN"), Npy.read(out.resolve("next_state.npy")), 0, 1e-5, "next_state");
  }

  /**
   * The clip's structure is read from its samples, not assumed: the pause is the longest run of
   * chunks whose samples are all zero (the digital silence between the two phrases), speech the
   * chunks whose RMS is at least a tenth of the loudest chunk's. The threshold comes from the
   * original's output: the midpoint between the median probability over the speech and the lowest
   * over the pause. The probability must be over it for nine in ten speech chunks, fall under it
   * within the pause and stay under until the pause ends (the model decays over a few chunks after
   * speech stops), and rise over it again after the pause. The artifact equals the original chunk
   * by chunk (above), so this holds for the sample too.
   */
  private static void assertTellsSpeechFromSilence(float[] audio, int chunks, float[] p) {
    double[] rms = new double[chunks];
    double loudest = 0;
    for (int c = 0; c < chunks; c++) {
      double e = 0;
      for (int i = 0; i < CHUNK; i++) {
        e += audio[c * CHUNK + i] * audio[c * CHUNK + i];
      }
      rms[c] = Math.sqrt(e / CHUNK);
      loudest = Math.max(loudest, rms[c]);
    }
    int pauseStart = 0;
    int pauseLength = 0;
    for (int c = 0, run = 0; c < chunks; c++) {
      run = rms[c] == 0 ? run + 1 : 0;
      if (run > pauseLength) {
        pauseLength = run;
        pauseStart = c - run + 1;
      }
    }
    int pauseEnd = pauseStart + pauseLength;
    StringBuilder trace = new StringBuilder();
    List<Float> speech = new ArrayList<>();
    float pauseMin = 1;
    for (int c = 0; c < chunks; c++) {
      trace.append(String.format("%d rms=%.4f p=%.3f%n", c, rms[c], p[c]));
      if (rms[c] >= 0.1 * loudest) {
        speech.add(p[c]);
      }
      if (c >= pauseStart && c < pauseEnd) {
        pauseMin = Math.min(pauseMin, p[c]);
      }
    }
    assertTrue(pauseLength >= 25, "the clip has a pause of about a second\n" + trace);
    assertTrue(pauseStart > 0 && pauseEnd < chunks, "the pause lies between speech\n" + trace);
    assertTrue(speech.size() >= 40, "the clip has over a second of speech\n" + trace);
    List<Float> sorted = new ArrayList<>(speech);
    sorted.sort(null);
    float median = sorted.get(sorted.size() / 2);
    double threshold = (pauseMin + median) / 2;
    long over = speech.stream().filter(x -> x > threshold).count();
    assertTrue(
        over * 10 >= speech.size() * 9,
        over + " of " + speech.size() + " speech chunks over " + threshold + "\n" + trace);
    int under = pauseStart;
    while (under < pauseEnd && p[under] >= threshold) {
      under++;
    }
    assertTrue(under < pauseStart + pauseLength / 2, "speech said to go on in the pause\n" + trace);
    for (int c = under; c < pauseEnd; c++) {
      assertTrue(p[c] < threshold, "speech said at chunk " + c + " in the pause\n" + trace);
    }
    boolean again = false;
    for (int c = pauseEnd; c < chunks; c++) {
      again |= p[c] > threshold;
    }
    assertTrue(again, "no speech said after the pause\n" + trace);
    System.out.printf(
        "silero: threshold %.3f; %d of %d speech chunks over it; pause chunks %d..%d, under it from"
            + " %d%n",
        threshold, over, speech.size(), pauseStart, pauseEnd - 1, under);
  }

  private static Tensor chunk(float[] audio, int c) {
    float[] x = new float[CHUNK];
    System.arraycopy(audio, c * CHUNK, x, 0, CHUNK);
    return Tensor.ofFloats(new long[] {1, CHUNK}, x);
  }

  /** The samples of a 16 kHz mono 16-bit PCM WAV file, scaled to [-1, 1). */
  static float[] read16kMono(Path wav) throws Exception {
    try (AudioInputStream in =
        AudioSystem.getAudioInputStream(new BufferedInputStream(Files.newInputStream(wav)))) {
      AudioFormat f = in.getFormat();
      assertEquals(16000f, f.getSampleRate(), wav.toString());
      assertEquals(1, f.getChannels(), wav.toString());
      assertEquals(16, f.getSampleSizeInBits(), wav.toString());
      byte[] bytes = in.readAllBytes();
      ByteBuffer bb =
          ByteBuffer.wrap(bytes)
              .order(f.isBigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
      float[] x = new float[bytes.length / 2];
      for (int i = 0; i < x.length; i++) {
        x[i] = bb.getShort() / 32768f;
      }
      return x;
    }
  }
}
