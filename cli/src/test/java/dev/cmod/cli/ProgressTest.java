package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The progress line: rewritten in place and cleared at the end; absent without a terminal. */
class ProgressTest {
  @Test
  void theLineIsRewrittenInPlaceAndCleared() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    p.step("compiling m.cmod");
    p.step("writing m.onnx");
    p.done();
    p.done(); // nothing shown: nothing to clear
    String s = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(s.startsWith("\r\033[Kcmod: compiling m.cmod ("), s);
    assertTrue(s.contains("\r\033[Kcmod: writing m.onnx ("), s);
    assertTrue(s.endsWith(" s)\r\033[K"), s);
    assertEquals(3, s.split("\r", -1).length - 1);
  }

  @Test
  void noLineWithoutATerminal() {
    Assumptions.assumeTrue(
        System.console() == null && System.getenv("CMOD_PROGRESS") == null,
        "this JVM has a terminal, or CMOD_PROGRESS is set");
    assertNull(Progress.forTerminal());
  }
}
