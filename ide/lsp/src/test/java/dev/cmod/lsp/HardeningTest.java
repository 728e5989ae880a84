package dev.cmod.lsp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an editor (or an attacker) can send the server over its stdio streams, driven through {@link
 * Main#launcher} with raw bytes: deep and malformed messages, imports that never finish reading,
 * documents with a great many errors, revisions that replace each other.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class HardeningTest {
  static final String OTHER = "file:///tmp/cmod-lsp-hardening/other.cmod";

  /** One unknown name, CM0100. */
  static final String OTHER_TEXT = CmodLanguageServerTest.BAD;

  RawPeer peer;
  @TempDir Path dir;

  RawPeer start(long timeoutMillis, CmodLanguageServer.Checker checker) throws Exception {
    peer =
        new RawPeer(
            new CmodLanguageServer(
                code -> {}, new CmodLanguageServer.Settings(timeoutMillis, 100, 2), checker));
    peer.initialize();
    return peer;
  }

  @AfterEach
  void stop() throws IOException {
    if (peer != null) {
      peer.close();
    }
  }

  static String nested(int depth, String id) {
    return "{\"jsonrpc\":\"2.0\","
        + (id != null ? "\"id\":" + id + "," : "")
        + "\"method\":\"x\",\"params\":"
        + "[".repeat(depth)
        + "]".repeat(depth)
        + "}";
  }

  /** The other document's one diagnostic: the compiler's CM0100 for Linaer. */
  static void assertOtherDiagnostics(JsonObject p) {
    JsonArray ds = p.getAsJsonArray("diagnostics");
    assertEquals(1, ds.size(), ds.toString());
    assertEquals("CM0100", ds.get(0).getAsJsonObject().get("code").getAsString());
    assertTrue(
        ds.get(0)
            .getAsJsonObject()
            .get("message")
            .getAsString()
            .startsWith("unknown name 'Linaer'"),
        ds.toString());
  }

  @Test
  void deepMessagesAreRefusedAndTheServerKeepsReading() throws Exception {
    start(10_000, DocumentCheck::check);
    // a notification 6000 deep: dropped (nothing to answer), and the reader survives it
    peer.send(nested(6000, null));
    // a request 6000 deep, its id first or after the deep part: answered -32600
    peer.send(nested(6000, "7"));
    JsonObject r = peer.await(m -> RawPeer.isResponse(m, 7), 5_000);
    assertEquals(-32600, r.getAsJsonObject("error").get("code").getAsInt(), r.toString());
    peer.send(
        "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":"
            + "[".repeat(6000)
            + "]".repeat(6000)
            + ",\"id\":\"late\"}");
    r = peer.await(m -> m.has("id") && m.get("id").getAsString().equals("late"), 5_000);
    assertEquals(-32600, r.getAsJsonObject("error").get("code").getAsInt(), r.toString());
    // brackets hidden from a naive scan behind a lenient-JSON comment still count
    peer.send(
        "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"x\",/* \" */\"params\":"
            + "[".repeat(6000)
            + "]".repeat(6000)
            + "}");
    r = peer.await(m -> RawPeer.isResponse(m, 8), 5_000);
    assertEquals(-32600, r.getAsJsonObject("error").get("code").getAsInt(), r.toString());
    // within the limit: parsed as usual (an unknown method, so -32601)
    peer.send(nested(300, "9"));
    r = peer.await(m -> RawPeer.isResponse(m, 9), 5_000);
    assertEquals(-32601, r.getAsJsonObject("error").get("code").getAsInt(), r.toString());

    // and another document is served: diagnostics and a hover answer
    peer.open(OTHER, 1, OTHER_TEXT);
    assertOtherDiagnostics(peer.diagnostics(OTHER, 10_000));
    peer.request(
        10,
        "textDocument/hover",
        JsonParser.parseString(
            "{\"textDocument\":{\"uri\":\""
                + OTHER
                + "\"},\"position\":{\"line\":4,\"character\":"
                + (OTHER_TEXT.split("\n")[4].indexOf("softmax") + 2)
                + "}}"));
    r = peer.await(m -> RawPeer.isResponse(m, 10), 5_000);
    assertTrue(
        r.getAsJsonObject("result")
            .getAsJsonObject("contents")
            .get("value")
            .getAsString()
            .contains("softmax"),
        r.toString());
  }

  @Test
  void malformedHeadersAndHugeLengthsAreSkipped() throws Exception {
    start(10_000, DocumentCheck::check);
    peer.sendRaw("Content-Length: abc\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    peer.sendRaw(
        "Content-Length: 99999999999999999999999999\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    peer.sendRaw(
        "Content-Type: text/plain\r\n\r\n".getBytes(StandardCharsets.US_ASCII)); // no length
    peer.sendRaw(
        ("X-Junk: " + "y".repeat(100_000) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    peer.request(11, "shutdownX", new JsonObject());
    JsonObject r = peer.await(m -> RawPeer.isResponse(m, 11), 5_000);
    assertEquals(-32601, r.getAsJsonObject("error").get("code").getAsInt(), r.toString());
    peer.open(OTHER, 1, OTHER_TEXT);
    assertOtherDiagnostics(peer.diagnostics(OTHER, 10_000));
  }

  @Test
  void fifoImportDoesNotHoldOtherDocuments() throws Exception {
    Path fifo = dir.resolve("fifo.cmod");
    Process p;
    try {
      p = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
    } catch (IOException e) {
      Assumptions.abort("mkfifo is not available: " + e.getMessage());
      return;
    }
    Assumptions.assumeTrue(p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo failed");
    start(2_000, DocumentCheck::check);
    Path doc = dir.resolve("main.cmod");
    String uri = doc.toUri().toString();
    long t0 = System.nanoTime();
    peer.open(uri, 1, "import \"./fifo.cmod\"\n" + CmodLanguageServerTest.GOOD);
    peer.open(OTHER, 1, OTHER_TEXT);
    assertOtherDiagnostics(peer.diagnostics(OTHER, 10_000));
    long otherMs = (System.nanoTime() - t0) / 1_000_000;
    // the FIFO document: refused by the compiler, or abandoned at the deadline, but answered
    JsonObject d = peer.diagnostics(uri, 10_000);
    long fifoMs = (System.nanoTime() - t0) / 1_000_000;
    String msgs = d.getAsJsonArray("diagnostics").toString();
    assertTrue(
        msgs.contains("took longer than 2 s and was abandoned") || msgs.contains("fifo.cmod"),
        msgs);
    System.err.println(
        "fifo import: other document answered after "
            + otherMs
            + " ms, the FIFO one after "
            + fifoMs
            + " ms: "
            + msgs);
    // still serving afterwards
    peer.change(OTHER, 2, CmodLanguageServerTest.GOOD);
    assertEquals(0, peer.diagnostics(OTHER, 10_000).getAsJsonArray("diagnostics").size());
    unblock(fifo);
  }

  /**
   * Lets a compile stuck opening the FIFO go on (a writer opens and closes it), without waiting.
   */
  private static void unblock(Path fifo) {
    Thread t =
        new Thread(
            () -> {
              try (OutputStream o = Files.newOutputStream(fifo)) {
                o.flush();
              } catch (IOException e) {
                // nobody reading: fine
              }
            });
    t.setDaemon(true);
    t.start();
  }

  @Test
  void compileThatNeverEndsIsAbandonedAtItsDeadline() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    String stuck = "file:///tmp/cmod-lsp-hardening/stuck.cmod";
    start(
        1_000,
        (uri, text) -> {
          if (text.contains("STUCK")) {
            never.await(); // a read that never returns
          }
          return DocumentCheck.check(uri, text);
        });
    long t0 = System.nanoTime();
    peer.open(stuck, 1, "// STUCK\n" + CmodLanguageServerTest.GOOD);
    peer.open(OTHER, 1, OTHER_TEXT);
    assertOtherDiagnostics(peer.diagnostics(OTHER, 5_000));
    JsonObject d = peer.diagnostics(stuck, 5_000);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms >= 900, "reported after " + ms + " ms, before its deadline");
    assertEquals(1, d.get("version").getAsInt());
    JsonArray ds = d.getAsJsonArray("diagnostics");
    assertEquals(1, ds.size(), ds.toString());
    assertTrue(
        ds.get(0)
            .getAsJsonObject()
            .get("message")
            .getAsString()
            .contains("took longer than 1 s and was abandoned"),
        ds.toString());
    assertEquals(1, ds.get(0).getAsJsonObject().get("severity").getAsInt());
    // a new revision compiles normally
    peer.change(stuck, 2, CmodLanguageServerTest.BAD);
    d = peer.diagnostics(stuck, 5_000);
    assertEquals(2, d.get("version").getAsInt());
    assertEquals(
        "CM0100",
        d.getAsJsonArray("diagnostics").get(0).getAsJsonObject().get("code").getAsString());
    never.countDown();
  }

  /** A model with {@code n} lines that are each an error. */
  static String manyErrors(int n, String line) {
    StringBuilder b = new StringBuilder("model M {\n  input x: f32[4]\n");
    for (int i = 0; i < n; i++) {
      b.append(line).append('\n');
    }
    return b.append("  output y: f32[4] = x\n}\n").toString();
  }

  @Test
  void documentWithVeryManyErrorsDoesNotHoldOthers() throws Exception {
    // 60 000 errors: the compiler needs well over ten seconds on it (its time grows faster than the
    // count)
    start(4_000, DocumentCheck::check);
    String big = "file:///tmp/cmod-lsp-hardening/big.cmod";
    long t0 = System.nanoTime();
    peer.open(big, 1, manyErrors(60_000, "  $"));
    Thread.sleep(200); // the big one is compiling
    long t1 = System.nanoTime();
    peer.open(OTHER, 1, OTHER_TEXT);
    assertOtherDiagnostics(peer.diagnostics(OTHER, 3_000));
    long otherMs = (System.nanoTime() - t1) / 1_000_000;
    JsonObject d = peer.diagnostics(big, 10_000);
    long bigMs = (System.nanoTime() - t0) / 1_000_000;
    JsonArray ds = d.getAsJsonArray("diagnostics");
    String first = ds.get(0).getAsJsonObject().get("message").getAsString();
    // abandoned at the deadline, or (on a fast machine) done: then capped at 100 and a count
    assertTrue(
        first.contains("took longer than 4 s") || ds.size() == 101, first + " / " + ds.size());
    System.err.println(
        "60 000 errors: the other document waited "
            + otherMs
            + " ms; the big one answered after "
            + bigMs
            + " ms ("
            + ds.size()
            + " diagnostics)");
  }

  @Test
  void diagnosticsAreCappedPerDocument() throws Exception {
    start(15_000, DocumentCheck::check);
    String many = "file:///tmp/cmod-lsp-hardening/many.cmod";
    peer.open(many, 1, manyErrors(1_000, "  let a = zz"));
    JsonArray ds = peer.diagnostics(many, 15_000).getAsJsonArray("diagnostics");
    assertEquals(101, ds.size());
    for (int i = 0; i < 100; i++) {
      assertTrue(ds.get(i).getAsJsonObject().has("code"), ds.get(i).toString());
    }
    String last = ds.get(100).getAsJsonObject().get("message").getAsString();
    assertTrue(
        last.matches(
            "(?s)and \\d+ more (diagnostics \\(\\d+ of them errors\\)|errors) not shown.*"),
        last);
    int more = Integer.parseInt(last.split(" ")[1]);
    // the compiler keeps 100 errors and counts the rest: shown + more = every error of the file
    int total =
        dev.cmod.compiler.Compilation.compileAll(
                new dev.cmod.compiler.diag.SourceFile(
                    "many.cmod", manyErrors(1_000, "  let a = zz")),
                null,
                dev.cmod.compiler.sema.CompileOptions.defaults().withOptLevel(0))
            .get(0)
            .diagnostics()
            .errorCount();
    assertTrue(total >= 1_000, "errors counted: " + total);
    assertEquals(total, 100 + more);
  }

  @Test
  void newerRevisionSupersedesOlderOnes() throws Exception {
    CountDownLatch release1 = new CountDownLatch(1);
    CountDownLatch release2 = new CountDownLatch(1);
    List<String> compiled = new ArrayList<>();
    start(
        15_000,
        (uri, text) -> {
          if (uri.endsWith("rev.cmod")) {
            synchronized (compiled) {
              compiled.add(text.substring(0, text.indexOf('\n')));
            }
          }
          if (text.startsWith("// one")) {
            release1.await();
          } else if (text.startsWith("// two")) {
            release2.await();
          }
          return DocumentCheck.check(uri, text);
        });
    String doc = "file:///tmp/cmod-lsp-hardening/rev.cmod";
    peer.open(doc, 1, "// one\n" + CmodLanguageServerTest.BAD);
    Thread.sleep(100);
    // version 1 still compiles; version 2 starts at once beside it
    peer.change(doc, 2, "// two\n" + CmodLanguageServerTest.BAD);
    Thread.sleep(100);
    // version 3 waits: this document already has a superseded compile running
    peer.change(doc, 3, "// three\n" + CmodLanguageServerTest.GOOD);
    Thread.sleep(300);
    synchronized (compiled) {
      assertEquals(List.of("// one", "// two"), compiled);
    }
    // meanwhile another document is served
    peer.open(OTHER, 1, OTHER_TEXT);
    assertOtherDiagnostics(peer.diagnostics(OTHER, 5_000));
    release1.countDown(); // version 1 ends: version 2 becomes the superseded one, version 3 starts
    JsonObject d = peer.diagnostics(doc, 5_000);
    assertEquals(3, d.get("version").getAsInt());
    assertEquals(0, d.getAsJsonArray("diagnostics").size(), d.toString());
    release2.countDown();
    Thread.sleep(300);
    peer.server.awaitIdle(5, TimeUnit.SECONDS);
    // nothing stale was ever published
    List<JsonObject> all = peer.allDiagnostics(doc);
    assertEquals(1, all.size(), all.toString());
    synchronized (compiled) {
      assertEquals(List.of("// one", "// two", "// three"), compiled);
    }
  }
}
