package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The weights of an imported model through {@code --weights}: what {@code cmod export-weights}
 * writes reads back in full (it was refused key by key), a changed weight changes the output as the
 * arithmetic says, and a key of the wrong shape is an error naming both shapes.
 */
class ImportedWeightsTest extends CommandLineHarness {
  @TempDir Path dir;

  @Test
  void exportedWeightsOfAnImportReadBack() throws Exception {
    // the "pretrained" model: y = x · W, compiled by cmod itself to an ONNX file
    Path base = dir.resolve("base.cmod");
    Files.writeString(
        base,
        "model Base {\n  input x: f32[3]\n  param w: f32[3, 2] = init.ones\n"
            + "  output y: f32[2] = matmul(x, w)\n}\n");
    assertEquals(0, run("compile", base.toString(), "-o", dir.resolve("base.onnx").toString()));
    Path user = dir.resolve("user.cmod");
    Files.writeString(
        user,
        "import onnx \"base.onnx\" as B\nmodel User {\n  input x: f32[3]\n"
            + "  output y: f32[2] = B(x)\n}\n");
    Path w = dir.resolve("w.safetensors");
    assertEquals(0, run("export-weights", user.toString(), "-o", w.toString()), err());
    Map<String, Tensor> exported = Safetensors.read(w);
    assertEquals(java.util.Set.of("B.w"), exported.keySet());

    Path x = dir.resolve("x.npy");
    Npy.write(x, Tensor.ofFloats(new long[] {1, 3}, new float[] {1, 2, 3}));
    Path out = dir.resolve("out");
    assertEquals(
        0,
        run(
            "run",
            user.toString(),
            "--weights",
            w.toString(),
            "--input",
            "x=" + x,
            "--output-dir",
            out.toString()),
        err());
    assertArrayEquals(new float[] {6, 6}, Npy.read(out.resolve("y.npy")).floats(), 0f);

    Map<String, Tensor> changed = new LinkedHashMap<>();
    changed.put("B.w", Tensor.ofFloats(new long[] {3, 2}, new float[] {1, 0, 0, 1, 1, 1}));
    Safetensors.write(w, changed, Map.of());
    assertEquals(
        0,
        run(
            "run",
            user.toString(),
            "--weights",
            w.toString(),
            "--input",
            "x=" + x,
            "--output-dir",
            out.toString()),
        err());
    assertArrayEquals(new float[] {4, 5}, Npy.read(out.resolve("y.npy")).floats(), 0f);

    changed.put("B.w", Tensor.ofFloats(new long[] {2, 3}, new float[6]));
    Safetensors.write(w, changed, Map.of());
    assertEquals(1, run("run", user.toString(), "--weights", w.toString()));
    assertTrue(err().contains("error[CM0301]"), err());
    assertTrue(err().contains("are f32[2, 3], the imported weight is f32[3, 2]"), err());
  }
}
