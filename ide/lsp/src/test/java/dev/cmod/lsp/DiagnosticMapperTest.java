package dev.cmod.lsp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.eclipse.lsp4j.Diagnostic;
import org.eclipse.lsp4j.DiagnosticSeverity;
import org.eclipse.lsp4j.Position;
import org.eclipse.lsp4j.Range;
import org.junit.jupiter.api.Test;

/** Compiles documents the way the server does and checks where their diagnostics land. */
class DiagnosticMapperTest {
  static final String URI = "file:///tmp/cmod-lsp-test/t.cmod";

  @Test
  void errorsInsideTheStdLibraryLandOnTheApplication() {
    String text =
        "import std.nn.{TransformerBlock}\n"
            + "model M {\n"
            + "  input x: Seq[8, 10]\n"
            + "  output y: Seq[8, 10] = x |> TransformerBlock(10, 3)\n"
            + "}\n";
    List<Diagnostic> ds = DocumentCheck.check(URI, text);
    assertTrue(!ds.isEmpty());
    String line = text.split("\n")[3];
    Range site = new Range(new Position(3, line.indexOf("x |>")), new Position(3, line.length()));
    for (Diagnostic d : ds) {
      assertEquals("CM0201", d.getCode().getLeft());
      assertEquals(site, d.getRange(), d.toString());
      assertTrue(d.getMessage().startsWith("std/nn.cmod:"), d.getMessage());
    }
  }

  @Test
  void everyModelIsChecked() {
    String text =
        "model M {\n  input x: f32[5]\n  output y: f32[5] = x |> Linaer(5, 5)\n}\n"
            + "model N {\n  input x: f32[5]\n  output y: f32[5] = x\n}\n";
    List<Diagnostic> ds = DocumentCheck.check(URI, text);
    assertEquals(1, ds.size(), ds.toString());
    assertEquals(2, ds.get(0).getRange().getStart().getLine());
  }

  @Test
  void aLibraryFileWithoutModelIsOnlyInformation() {
    List<Diagnostic> ds = DocumentCheck.check(URI, "module A()(x: f32[4]) -> f32[4] { x }\n");
    assertEquals(1, ds.size(), ds.toString());
    assertEquals("CM0400", ds.get(0).getCode().getLeft());
    assertEquals(DiagnosticSeverity.Information, ds.get(0).getSeverity());
  }

  @Test
  void syntaxErrorsAndUntitledDocuments() {
    List<Diagnostic> ds =
        DocumentCheck.check(
            "untitled:Untitled-1",
            "model M {\r\n  input x: f32[4]\r\n  output y: f32[4] = x |>\r\n}\r\n");
    assertTrue(!ds.isEmpty());
    assertEquals(DiagnosticSeverity.Error, ds.get(0).getSeverity());
    assertTrue(ds.get(0).getRange().getStart().getLine() >= 2, ds.toString());
  }

  @Test
  void linesAndWords() {
    String t = "ab\r\ncd\ref\n";
    assertEquals(new Position(1, 1), Lines.position(t, 5));
    assertEquals(new Position(2, 0), Lines.position(t, 7));
    assertEquals(5, Lines.offset(t, new Position(1, 1)));
    assertEquals(6, Lines.offset(t, new Position(1, 99)));
    assertEquals(t.length(), Lines.offset(t, new Position(9, 0)));
    String w = "x |> soft_max(y)";
    int[] at = Lines.wordAt(w, 8);
    assertEquals("soft_max", w.substring(at[0], at[1]));
    at = Lines.wordAt(w, 13); // right after the word
    assertEquals("soft_max", w.substring(at[0], at[1]));
    assertEquals(null, Lines.wordAt(w, 2));
  }
}
