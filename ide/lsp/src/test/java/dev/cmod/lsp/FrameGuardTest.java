package dev.cmod.lsp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.gson.JsonPrimitive;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The framing and depth checks on their own, with small limits. */
class FrameGuardTest {
  static byte[] frame(String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return concat(
        ("Content-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII), b);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      o.writeBytes(p);
    }
    return o.toByteArray();
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void passesGoodMessagesAndDropsTheRest() throws Exception {
    List<String> rejected = new ArrayList<>();
    String ok1 =
        "{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"params\":[[\"[[[[[[[[\\\"[[[[[\"]]]}"; // brackets
    // in a
    // string
    String ok2 = "{\"jsonrpc\":\"2.0\",\"method\":\"b\",\"params\":{\"text\":\"é ünïcode\"}}";
    byte[] input =
        concat(
            frame(ok1),
            ascii("Content-Length: 2000\r\n\r\n"),
            new byte[2000], // over the 1000-byte limit: skipped unread
            ascii("Content-Length: -5\r\n\r\n"),
            ascii("Content-Length: 12abc\r\n\r\n"),
            ascii("Content-Type: x\r\n\r\n"), // no length
            ascii("X: " + "z".repeat(20_000) + "\r\n\r\n"), // a header line over the limit
            frame(
                "{\"id\":3,\"method\":\"deep\",\"params\":" + "[".repeat(9) + "]".repeat(9) + "}"),
            frame(
                "{\"method\":\"deep\",\"params\":"
                    + "{\"a\":".repeat(9)
                    + "1"
                    + "}".repeat(9)
                    + "}"),
            ascii("\r\n"), // a stray line break
            frame(ok2),
            ascii("{\"garbage\":1}Content-Length: 2\r\n\r\n{}"), // a wrong earlier length:
            // resynchronised on the header
            ascii("Content-Length: 50\r\n\r\n{\"cut\"")); // the input ends inside a body
    FrameGuard g =
        new FrameGuard(
            new ByteArrayInputStream(input), 8, 1000, (id, why) -> rejected.add(id + ": " + why));
    byte[] out = g.readAllBytes();
    assertEquals(
        new String(concat(frame(ok1), frame(ok2), frame("{}")), StandardCharsets.UTF_8),
        new String(out, StandardCharsets.UTF_8));
    assertEquals(
        List.of(
            "3: the message nests deeper than 8 levels",
            "null: the message nests deeper than 8 levels"),
        rejected);
  }

  @Test
  void idsOfDroppedMessages() {
    assertEquals(
        new JsonPrimitive("x"), FrameGuard.idOf(ascii("{\"params\":[[[[]]]],\"id\":\"x\"}")));
    assertEquals(17, FrameGuard.idOf(ascii("{\"id\":17,\"params\":[]}")).getAsInt());
    assertNull(FrameGuard.idOf(ascii("{\"params\":[{\"id\":1}]}")));
    assertNull(FrameGuard.idOf(ascii("[1,2]")));
    assertNull(FrameGuard.idOf(ascii("{\"id\":")));
  }

  @Test
  void depthCountsWhatGsonWouldParse() {
    FrameGuard g = new FrameGuard(new ByteArrayInputStream(new byte[0]), 3, 1000, (id, why) -> {});
    assertNull(g.depthProblem(ascii("[[[1]]]")));
    assertEquals("the message nests deeper than 3 levels", g.depthProblem(ascii("[[[[1]]]]")));
    assertNull(g.depthProblem(ascii("[\"[[[[\\\"[[[[\"]")));
    assertEquals(
        "the message nests deeper than 3 levels",
        g.depthProblem(ascii("[/* \" */ [['[[[' , [[]]]]]")));
    assertNull(g.depthProblem(ascii("not json at all {{{{")), "LSP4J reports what is not JSON");
  }
}
