package dev.cmod.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.io.TensorFileException;
import dev.cmod.ir.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzz targets for the tensor file readers ({@code .npy} and safetensors), which read files the
 * user names on the command line ({@code --input NAME=FILE.npy}, {@code --weights W.safetensors}).
 *
 * <p>The only user-facing exception is {@link TensorFileException}; anything else (an
 * IndexOutOfBounds, a NegativeArraySize, an IllegalArgument from {@link Tensor}, an OOM) is a bug.
 * Each input is read twice, from memory and from a file, and both must agree. A successful read
 * must give tensors whose element counts match their shapes and which together hold no more data
 * than the file: decoding more bytes than the file has means an input can make the reader allocate
 * without bound (memory amplification).
 *
 * <p>Regression mode (plain {@code mvn verify}) runs the committed inputs under {@code
 * src/test/resources/dev/cmod/fuzz/TensorReadersFuzzTestInputs/<method>/}; fuzzing mode: {@code
 * JAZZER_FUZZ=1 mvn -o test -pl ir -Dtest=TensorReadersFuzzTest#npy -Djazzer.max_duration=60s} (for
 * safetensors add {@code '-Djazzer.instrument=dev.cmod.**,com.google.gson.**'}).
 */
class TensorReadersFuzzTest {
  private static Path dir;

  @BeforeAll
  static void makeDir() throws IOException {
    dir = Files.createTempDirectory("cmod-fuzz-tensors");
  }

  @AfterAll
  static void removeDir() throws IOException {
    try (var s = Files.list(dir)) {
      for (Path p : s.toList()) {
        Files.deleteIfExists(p);
      }
    }
    Files.deleteIfExists(dir);
  }

  private static Path spill(byte[] data, String name) {
    try {
      Path p = dir.resolve(name);
      Files.write(p, data);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest(maxDuration = "60s")
  void npy(byte[] data) {
    Tensor fromBytes = null;
    String bytesError = null;
    try {
      fromBytes = Npy.read(data, "fuzz.npy");
    } catch (TensorFileException e) {
      bytesError = e.getMessage();
    }
    Tensor fromFile = null;
    String fileError = null;
    try {
      fromFile = Npy.read(spill(data, "fuzz.npy"));
    } catch (TensorFileException e) {
      fileError = e.getMessage();
    }
    assertEquals(
        bytesError == null,
        fileError == null,
        "Npy.read(byte[]) and Npy.read(Path) disagree: " + bytesError + " / " + fileError);
    if (fromBytes != null) {
      checkTensor("npy", fromBytes);
      assertTrue(bytesOf(fromBytes) <= 8L * data.length, "decoded more data than the file holds");
      assertArrayEquals(fromBytes.shape(), fromFile.shape());
      assertEquals(fromBytes.dtype(), fromFile.dtype());
      // what we read we can write back, and reading that gives the same tensor
      Tensor again = Npy.read(Npy.toBytes(fromBytes), "roundtrip.npy");
      assertArrayEquals(fromBytes.shape(), again.shape());
      assertEquals(fromBytes.dtype(), again.dtype());
    }
  }

  @FuzzTest(maxDuration = "60s")
  void safetensors(byte[] data) {
    Map<String, Tensor> fromBytes = null;
    String bytesError = null;
    try {
      fromBytes = Safetensors.read(data, "fuzz.safetensors");
    } catch (TensorFileException e) {
      bytesError = e.getMessage();
    }
    Map<String, Tensor> fromFile = null;
    String fileError = null;
    Path file = spill(data, "fuzz.safetensors");
    try {
      fromFile = Safetensors.read(file);
    } catch (TensorFileException e) {
      fileError = e.getMessage();
    }
    assertEquals(
        bytesError == null,
        fileError == null,
        "Safetensors.read(byte[]) and Safetensors.read(Path) disagree: "
            + bytesError
            + " / "
            + fileError);
    if (fromBytes != null) {
      long total = 0;
      for (Map.Entry<String, Tensor> e : fromBytes.entrySet()) {
        checkTensor("safetensors '" + e.getKey() + "'", e.getValue());
        total += bytesOf(e.getValue());
      }
      // a tensor's data is at least 1 byte per element in the file; decoding more than the file
      // holds means entries share bytes (overlapping data_offsets), which lets a small file
      // allocate without bound
      long elements = 0;
      for (Tensor t : fromBytes.values()) {
        elements += t.size();
      }
      assertTrue(
          elements <= data.length,
          "decoded "
              + elements
              + " elements ("
              + total
              + " bytes in memory) from a file of "
              + data.length
              + " bytes: overlapping data_offsets");
      assertEquals(fromBytes.keySet().stream().toList(), fromFile.keySet().stream().toList());
      Map<String, String> meta = Safetensors.readMetadata(file);
      // write back and read again: same keys, shapes and dtypes
      Map<String, Tensor> again =
          Safetensors.read(Safetensors.toBytes(fromBytes, meta), "roundtrip.safetensors");
      assertEquals(fromBytes.keySet(), again.keySet());
      for (String k : fromBytes.keySet()) {
        assertArrayEquals(fromBytes.get(k).shape(), again.get(k).shape(), k);
        assertEquals(fromBytes.get(k).dtype(), again.get(k).dtype(), k);
      }
    } else {
      // the metadata reader shares the header validation and must fail the same clean way
      try {
        Safetensors.readMetadata(file);
      } catch (TensorFileException expected) {
        // fine
      }
    }
  }

  private static void checkTensor(String what, Tensor t) {
    long n = Tensor.numel(t.shape());
    assertEquals(
        n, t.size(), what + ": " + Arrays.toString(t.shape()) + " vs " + t.size() + " elements");
  }

  private static long bytesOf(Tensor t) {
    return (long) t.size() * t.dtype().byteSize;
  }
}
