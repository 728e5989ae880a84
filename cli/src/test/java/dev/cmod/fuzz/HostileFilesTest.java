package dev.cmod.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The positive side of the hostile-files issue: what must work (a UTF-8 BOM, a missing
 * --output-dir, output names mapped to plain file names, the mode of written files). The bad-input
 * side is ReliabilityTest's table.
 */
class HostileFilesTest {
  private static final String MLP =
      """
      import std.nn.{Linear}
      model Mlp {
        input x: f32[4]
        let l1 = Linear(4, 8)
        output y: f32[3] = x |> l1 |> relu |> Linear(8, 3)
      }
      """;

  @TempDir Path dir;

  private static Set<String> names(Path d) throws Exception {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
  }

  private static int expectedMode() {
    return 0666 & ~Hostile.umask();
  }

  @Test
  void aUtf8ByteOrderMarkIsAccepted() throws Exception {
    Path src = dir.resolve("bom.cmod");
    byte[] text = MLP.getBytes(StandardCharsets.UTF_8);
    byte[] b = new byte[text.length + 3];
    b[0] = (byte) 0xEF;
    b[1] = (byte) 0xBB;
    b[2] = (byte) 0xBF;
    System.arraycopy(text, 0, b, 3, text.length);
    Files.write(src, b);
    Cli.Run r = Cli.inProcess("compile", src.toString(), "-o", dir.resolve("bom.onnx").toString());
    assertEquals(0, r.exit(), r.all());
    assertTrue(Files.size(dir.resolve("bom.onnx")) > 0);
  }

  @Test
  void aMissingOutputDirIsCreatedAndHoldsExactlyTheOutputs() throws Exception {
    Path src = Files.writeString(dir.resolve("a.cmod"), MLP);
    Path outs = dir.resolve("new/outs");
    Cli.Run r = Cli.inProcess("run", src.toString(), "--output-dir", outs.toString());
    assertEquals(0, r.exit(), r.all());
    assertEquals(Set.of("y.npy"), names(outs));
    assertEquals(
        expectedMode(),
        Hostile.mode(outs.resolve("y.npy")),
        Integer.toOctalString(Hostile.mode(outs.resolve("y.npy"))));
    assertEquals(Set.of("a.cmod", "new"), names(dir));
  }

  @Test
  void writtenFilesGetTheModeOfTheUmaskNever0600() throws Exception {
    Path src = Files.writeString(dir.resolve("a.cmod"), MLP);
    Path onnx = dir.resolve("a.onnx");
    Path w = dir.resolve("w.safetensors");
    assertEquals(0, Cli.inProcess("compile", src.toString(), "-o", onnx.toString()).exit());
    assertEquals(0, Cli.inProcess("export-weights", src.toString(), "-o", w.toString()).exit());
    for (Path p : List.of(onnx, w)) {
      int m = Hostile.mode(p);
      assertEquals(expectedMode(), m, p + " has mode " + Integer.toOctalString(m));
      assertTrue(m != 0600, p + " is 0600");
    }
    // replacing an existing regular file works, and leaves no temporary file
    Files.writeString(onnx, "old");
    assertEquals(0, Cli.inProcess("compile", src.toString(), "-o", onnx.toString()).exit());
    assertTrue(Files.size(onnx) > 3);
    assertEquals(Set.of("a.cmod", "a.onnx", "w.safetensors"), names(dir));
  }

  @Test
  void hostileOutputNamesBecomePlainFileNamesInsideTheOutputDir() throws Exception {
    List<String> outputs =
        List.of(
            "y",
            "../x",
            "/abs",
            "a/b",
            "a_b",
            "..",
            ".hidden",
            "c\u0001d",
            "\u00fcber",
            "n".repeat(300),
            "Y",
            "con:1");
    Path m = Files.write(dir.resolve("m.onnx"), OnnxModels.identities(outputs));
    Path outs = dir.resolve("outs");
    Path x =
        Files.write(
            dir.resolve("x.npy"),
            Npy.toBytes(Tensor.ofFloats(new long[] {4}, new float[] {1, 2, 3, 4})));
    Cli.Run r =
        Cli.inProcess("run", m.toString(), "--input", "x=" + x, "--output-dir", outs.toString());
    assertEquals(0, r.exit(), r.all());
    Set<String> files = names(outs);
    assertEquals(outputs.size(), files.size(), files.toString());
    for (String f : files) {
      assertTrue(f.matches("[A-Za-z0-9._-]+\\.npy"), f);
      assertFalse(f.startsWith("."), f);
      assertTrue(f.length() <= 255, f);
      Path p = outs.resolve(f);
      assertTrue(Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS), f);
      assertEquals(4, Npy.read(p).shape()[0], f);
    }
    assertTrue(files.contains("y.npy"), files.toString());
    assertTrue(files.contains("_abs.npy"), files.toString());
    assertTrue(files.contains("a_b.npy") && files.contains("a_b_2.npy"), files.toString());
    assertTrue(files.contains("output_.._x.npy"), files.toString());
    assertTrue(r.out().contains("output '../x' written as output_.._x.npy"), r.out());
    // nothing beside the output folder and the inputs
    assertEquals(Set.of("m.onnx", "outs", "x.npy"), names(dir));
    List<String> lower = new ArrayList<>();
    for (String f : files) {
      lower.add(f.toLowerCase(java.util.Locale.ROOT));
    }
    assertEquals(
        files.size(), new TreeSet<>(lower).size(), "names that differ only in case: " + files);
    assertTrue(Map.of().isEmpty());
  }
}
