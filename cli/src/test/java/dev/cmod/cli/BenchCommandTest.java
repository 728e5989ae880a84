package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cmod bench}'s report: JSON with p50 and p90 per measurement and throughput from the batch
 * of the given inputs, at a fixed thread count. No timing is asserted (figures depend on the
 * machine), only what the report must hold.
 */
class BenchCommandTest extends CommandLineHarness {
  @TempDir Path dir;

  @Test
  void jsonReportWithGivenInputsAndThreads() throws Exception {
    Path src = dir.resolve("m.cmod");
    Files.writeString(
        src,
        "import std.nn.{Linear}\nmodel M {\n  input x: f32[8]\n  output y: f32[4] = Linear(8, 4)(x)\n}\n");
    Path x = dir.resolve("x.npy");
    Npy.write(x, Tensor.ofFloats(new long[] {5, 8}, new float[40]));
    int rc =
        run(
            "bench",
            src.toString(),
            "--input",
            "x=" + x,
            "--threads",
            "1",
            "--iterations",
            "4",
            "--warmup",
            "1",
            "--json");
    assertEquals(0, rc, err());
    JsonObject j = JsonParser.parseString(out()).getAsJsonObject();
    assertEquals(1, j.get("threads").getAsInt());
    assertEquals(4, j.get("iterations").getAsInt());
    assertEquals(5, j.get("batch").getAsLong(), "the batch of the given input");
    for (String k :
        new String[] {
          "compile_O0", "compile_O2", "interpreter", "onnxruntime_O0", "onnxruntime_O2"
        }) {
      JsonObject m = j.getAsJsonObject(k);
      assertTrue(m.get("p50_ms").getAsDouble() > 0, k);
      assertTrue(m.get("p90_ms").getAsDouble() >= m.get("p50_ms").getAsDouble(), k);
      assertTrue(m.get("min_ms").getAsDouble() <= m.get("p50_ms").getAsDouble(), k);
    }
    JsonObject ort = j.getAsJsonObject("onnxruntime_O2");
    assertEquals(
        5 * 1000.0 / ort.get("p50_ms").getAsDouble(),
        ort.get("examples_per_s").getAsDouble(),
        1e-6);
    assertEquals(2, run("bench", src.toString(), "--threads", "-1"));
  }

  @Test
  void halfPrecisionIsBenchedAndReported() throws Exception {
    Path src = dir.resolve("m.cmod");
    Files.writeString(
        src,
        "import std.nn.{Linear}\nmodel M {\n  input x: f32[8]\n  output y: f32[4] = Linear(8, 4)(x)\n}\n");
    int rc =
        run(
            "bench",
            src.toString(),
            "--precision",
            "f16",
            "--iterations",
            "3",
            "--warmup",
            "1",
            "--json");
    assertEquals(0, rc, err());
    JsonObject j = JsonParser.parseString(out()).getAsJsonObject();
    assertEquals("f16", j.get("precision").getAsString());
    assertTrue(j.getAsJsonObject("onnxruntime_O2").get("p50_ms").getAsDouble() > 0);
    assertEquals(0, run("bench", src.toString(), "--precision", "f16", "--iterations", "2"));
    assertTrue(out().contains("precision f16"), out());
  }
}
