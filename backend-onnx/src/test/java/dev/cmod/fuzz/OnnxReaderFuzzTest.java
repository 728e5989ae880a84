package dev.cmod.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.cmod.onnx.OnnxChecks;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.RunnerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzz target for reading an untrusted ONNX file, as {@code cmod run FILE.onnx} does: {@link
 * OnnxChecks#validate} first, and only when it finds no problem, opening the model with ONNX
 * Runtime (CPU) and reading its inputs and outputs.
 *
 * <p>The model's folder is a sandbox holding {@code weights.bin} (16 bytes) and {@code sub/w.bin},
 * so that external-data references can pass validation. User-facing outcomes are a non-empty
 * problem list and {@link RunnerException}; anything else thrown, a JVM crash inside ONNX Runtime
 * (the fuzzer reports it as a native crash), a StackOverflowError, an OOM or a hang is a finding.
 *
 * <p>Regression mode (plain {@code mvn verify}) runs the committed inputs under {@code
 * src/test/resources/dev/cmod/fuzz/OnnxReaderFuzzTestInputs/validateThenOpen/}; fuzzing mode:
 * {@code JAZZER_FUZZ=1 mvn -o test -pl backend-onnx -Dtest=OnnxReaderFuzzTest
 * -Djazzer.max_duration=60s '-Djazzer.instrument=dev.cmod.**,ai.onnx.**,com.google.protobuf.**'}.
 */
class OnnxReaderFuzzTest {
  private static Path modelDir;
  private static final AtomicLong REJECTED = new AtomicLong();
  private static final AtomicLong REFUSED = new AtomicLong();
  private static final AtomicLong OPENED = new AtomicLong();

  @BeforeAll
  static void sandbox() throws IOException {
    modelDir = Files.createTempDirectory("cmod-fuzz-onnx");
    Files.write(modelDir.resolve("weights.bin"), new byte[16]);
    Files.createDirectories(modelDir.resolve("sub"));
    Files.write(modelDir.resolve("sub/w.bin"), new byte[64]);
  }

  @AfterAll
  static void cleanUp() throws IOException {
    System.err.println(
        "OnnxReaderFuzzTest: "
            + REJECTED
            + " inputs rejected by OnnxChecks, "
            + REFUSED
            + " refused by ONNX Runtime, "
            + OPENED
            + " opened");
    try (Stream<Path> s = Files.walk(modelDir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @FuzzTest(maxDuration = "60s")
  void validateThenOpen(byte[] data) {
    List<String> problems = OnnxChecks.validate(data, modelDir);
    if (!problems.isEmpty()) {
      REJECTED.incrementAndGet();
      return;
    }
    try (OnnxRunner r = OnnxRunner.open(data, OnnxRunner.Device.CPU)) {
      r.inputNames();
      r.outputNames();
      r.describe();
      OPENED.incrementAndGet();
    } catch (RunnerException expected) {
      // ONNX Runtime refused the model: a clean, user-facing error
      REFUSED.incrementAndGet();
    }
  }
}
