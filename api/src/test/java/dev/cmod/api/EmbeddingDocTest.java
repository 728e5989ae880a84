package dev.cmod.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRunner;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample program of docs/embedding.md, taken from the markdown itself (the java block after the
 * {@code embedding-sample} marker), compiles against this build's classes and runs: its printed
 * interface and parameters are the ones the doc shows, {@code shifted} is the hand-computed {@code
 * 2x + 1}, and {@code score} is what ONNX Runtime gives on the ONNX file the program wrote.
 */
class EmbeddingDocTest {
  @TempDir Path dir;

  @Test
  void theDocumentedSampleCompilesRunsAndPrintsWhatTheDocSays() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "embedding.md"));
    String program = block(doc, "<!-- embedding-sample", "```java");
    String shown = block(doc, "Its output starts with", "```text");

    Path src = dir.resolve("Embed.java");
    Files.writeString(src, program);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    ByteArrayOutputStream diag = new ByteArrayOutputStream();
    int rc =
        javac.run(
            null,
            diag,
            diag,
            "-d",
            dir.toString(),
            "-cp",
            System.getProperty("java.class.path"),
            src.toString());
    assertEquals(0, rc, diag.toString(StandardCharsets.UTF_8));

    Path onnx = dir.resolve("scorer.onnx");
    String out;
    PrintStream saved = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (URLClassLoader loader =
        new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
      System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
      loader
          .loadClass("Embed")
          .getMethod("main", String[].class)
          .invoke(null, (Object) new String[] {onnx.toString()});
    } finally {
      System.setOut(saved);
    }
    out = buf.toString(StandardCharsets.UTF_8);

    assertTrue(out.startsWith(shown), "the doc shows what the program prints:\n" + out);
    List<String> lines = out.lines().toList();
    assertTrue(lines.contains("wrote " + onnx), out);
    assertTrue(lines.contains("shifted = [3.0, 5.0, 7.0, 9.0]"), out);
    assertTrue(lines.contains("shifted = [21.0, 23.0, 25.0, 27.0]"), out);

    List<String> scores = new ArrayList<>();
    for (String l : lines) {
      if (l.startsWith("score = ")) {
        scores.add(l);
      }
    }
    assertEquals(2, scores.size(), out);
    try (OnnxRunner r = OnnxRunner.open(onnx, OnnxRunner.Device.CPU)) {
      float[] x = {1, 2, 3, 4};
      Map<String, Tensor> want = r.run(Map.of("x", Cmod.floats(x, 1, 4)));
      assertEquals(
          "score = " + java.util.Arrays.toString(want.get("score").floats()), scores.get(0));
    }
  }

  @Test
  void aProgramThatDoesNotCompileIsAnExceptionWithTheLocatedDiagnostics() {
    CompileException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            CompileException.class,
            () ->
                Cmod.standard()
                    .compile(
                        "bad.cmod", "model M {\n  input x: f32[4]\n  output y: f32[4] = z\n}\n"));
    assertTrue(e.getMessage().contains("bad.cmod:3:"), e.getMessage());
    assertTrue(e.getMessage().contains("error[CM0"), e.getMessage());
    assertTrue(e.diagnostics().size() >= 1);
  }

  @Test
  void withoutAnImporterImportOnnxIsRefusedNotLookedUpGlobally() {
    CompileException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            CompileException.class,
            () ->
                Cmod.standard()
                    .withOnnxImports(null)
                    .compile(
                        "imp.cmod",
                        "import onnx \"m.onnx\" as Enc\n"
                            + "model M {\n  input x: f32[4]\n  output y: f32[4] = x\n}\n"));
    assertTrue(e.getMessage().contains("imp.cmod:1:"), e.getMessage());
  }

  @Test
  void integerInputsRunAndTheOptionsReachTheCompiler() {
    CompiledModel m =
        Cmod.standard()
            .withOptLevel(0)
            .compile(
                "t.cmod",
                "model T {\n  input ids: i64[seq]\n  output next: i64[seq] = ids + 1\n}\n");
    assertEquals(List.of("ids"), m.inputs().stream().map(p -> p.name()).toList());
    assertEquals(0, m.parameterCount().total());
    Map<String, Tensor> out = m.run(Map.of("ids", Cmod.longs(new long[] {4, 5, 6}, 1, 3)));
    assertArrayEquals(new long[] {5, 6, 7}, out.get("next").longs());
    String level =
        m.onnxModel().getMetadataPropsList().stream()
            .filter(p -> p.getKey().equals("cmod.opt_level"))
            .findFirst()
            .orElseThrow()
            .getValue();
    assertEquals("0", level, "the options reach the compiler");
  }

  /** The text of the first fenced block of kind {@code fence} after {@code marker}. */
  private static String block(String doc, String marker, String fence) {
    int at = doc.indexOf(marker);
    assertTrue(at >= 0, "docs/embedding.md has no " + marker);
    int start = doc.indexOf(fence + "\n", at);
    assertTrue(start >= 0, "no " + fence + " block after " + marker);
    start += fence.length() + 1;
    int end = doc.indexOf("\n```", start);
    return doc.substring(start, end + 1);
  }
}
