package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model signatures that fit real models, run end to end on ONNX Runtime: the batch axis placed
 * where it is written, {@code exact} types with nothing added, outputs declared first and assigned
 * later. The oracle is hand-computed values.
 */
class SignatureRunTest extends CommandLineHarness {
  @TempDir Path dir;

  private static final String STEP =
      """
      // a streaming step: the state has its batch on axis 1, the rate is a scalar
      model Step {
        input x: f32[batch, 4]
        input state: f32[2, batch, 4]
        input sr: exact i64[]
        output y: f32[batch, 4]
        output stateN: f32[2, batch, 4]
        stateN = state * 0.5 + x
        let scale = cast(sr, f32)
        y = x * scale
      }
      """;

  @Test
  void batchOnAxisOneAndScalarInputRunWithNpyFiles() throws Exception {
    Path src = dir.resolve("step.cmod");
    Files.writeString(src, STEP);
    float[] xs = new float[8];
    float[] st = new float[16];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = i - 3;
    }
    for (int i = 0; i < st.length; i++) {
      st[i] = 2 * i;
    }
    Path x = dir.resolve("x.npy");
    Path s = dir.resolve("state.npy");
    Path sr = dir.resolve("sr.npy");
    Npy.write(x, Tensor.ofFloats(new long[] {2, 4}, xs));
    Npy.write(s, Tensor.ofFloats(new long[] {2, 2, 4}, st));
    Npy.write(sr, Tensor.ofLongs(new long[] {}, new long[] {3}));
    Path out = dir.resolve("out");
    int rc =
        run(
            "run",
            src.toString(),
            "--input",
            "x=" + x,
            "--input",
            "state=" + s,
            "--input",
            "sr=" + sr,
            "--output-dir",
            out.toString());
    assertEquals(0, rc, err());
    // outputs keep their declaration order although stateN is assigned first
    assertTrue(out().indexOf("y:") < out().indexOf("stateN:"), out());
    Tensor y = Npy.read(out.resolve("y.npy"));
    Tensor sn = Npy.read(out.resolve("stateN.npy"));
    assertArrayEquals(new long[] {2, 4}, y.shape());
    assertArrayEquals(new long[] {2, 2, 4}, sn.shape());
    for (int i = 0; i < 8; i++) {
      assertEquals(3 * xs[i], y.floats()[i], 0f);
    }
    // stateN[k, b, d] = state[k, b, d] / 2 + x[b, d]
    for (int k = 0; k < 2; k++) {
      for (int b = 0; b < 2; b++) {
        for (int d = 0; d < 4; d++) {
          int i = k * 8 + b * 4 + d;
          assertEquals(st[i] * 0.5f + xs[b * 4 + d], sn.floats()[i], 0f, "at " + i);
        }
      }
    }
  }

  @Test
  void randomInputsAndExplainFollowThePlacedBatch() throws Exception {
    Path src = dir.resolve("step.cmod");
    Files.writeString(src, STEP);
    assertEquals(0, run("run", src.toString()), err());
    assertTrue(out().contains("state: f32[2, 2, 4]"), out());
    assertTrue(out().contains("sr: i64[]"), out());
    assertEquals(0, run("explain", src.toString()), err());
    assertTrue(out().matches("(?s).*state\\s+f32\\[2, batch, 4\\].*"), out());
    assertTrue(out().matches("(?s).*sr\\s+i64\\[\\].*"), out());
  }

  @Test
  void exactFixedSizeInputHasNoBatch() throws Exception {
    Path src = dir.resolve("fixed.cmod");
    Files.writeString(
        src,
        """
        model Fixed {
          input img: exact f32[1, 3, 2, 2]
          output total: exact f32[1, 3] = sum(sum(img, axis = 3), axis = 2)
        }
        """);
    float[] v = new float[12];
    for (int i = 0; i < v.length; i++) {
      v[i] = i;
    }
    Path img = dir.resolve("img.npy");
    Npy.write(img, Tensor.ofFloats(new long[] {1, 3, 2, 2}, v));
    Path out = dir.resolve("out");
    assertEquals(
        0,
        run("run", src.toString(), "--input", "img=" + img, "--output-dir", out.toString()),
        err());
    Tensor t = Npy.read(out.resolve("total.npy"));
    assertArrayEquals(new long[] {1, 3}, t.shape());
    assertArrayEquals(new float[] {6, 22, 38}, t.floats(), 0f);
    // a batch of two does not fit an exact input
    Path two = dir.resolve("two.npy");
    Npy.write(two, Tensor.zeros(DType.F32, new long[] {2, 3, 2, 2}));
    assertEquals(1, run("run", src.toString(), "--input", "img=" + two), out());
    assertTrue(err().contains("CM0402"), err());
  }
}
