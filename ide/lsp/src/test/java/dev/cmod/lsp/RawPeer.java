package dev.cmod.lsp;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A client that speaks raw bytes to the server's {@link Main#launcher} over pipes, the way an
 * editor does over stdio: it can send anything, well-formed or not, and records every message the
 * server writes back.
 */
final class RawPeer implements AutoCloseable {
  final CmodLanguageServer server;
  private final OutputStream toServer;
  private final ExecutorService threads =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "raw-peer");
            t.setDaemon(true);
            return t;
          });
  private final Future<Void> listening;
  private final LinkedBlockingQueue<JsonObject> incoming = new LinkedBlockingQueue<>();

  /** Every message received so far, in order (guarded by itself). */
  final List<JsonObject> received = new ArrayList<>();

  RawPeer(CmodLanguageServer server) throws IOException {
    this.server = server;
    PipedInputStream serverIn = new PipedInputStream(1 << 20);
    toServer = new PipedOutputStream(serverIn);
    PipedInputStream fromServer = new PipedInputStream(1 << 20);
    PipedOutputStream serverOut = new PipedOutputStream(fromServer);
    listening = Main.launcher(server, serverIn, serverOut, threads).startListening();
    threads.execute(() -> readAll(fromServer));
  }

  private void readAll(InputStream in) {
    try {
      while (true) {
        int length = -1;
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) { // headers
          int c = in.read();
          if (c < 0) {
            return;
          }
          if (c == '\n') {
            String l = line.toString(StandardCharsets.US_ASCII).trim();
            line.reset();
            if (l.isEmpty()) {
              break;
            }
            if (l.startsWith("Content-Length:")) {
              length = Integer.parseInt(l.substring(15).trim());
            }
          } else {
            line.write(c);
          }
        }
        byte[] body = in.readNBytes(length);
        JsonObject m =
            JsonParser.parseString(new String(body, StandardCharsets.UTF_8)).getAsJsonObject();
        synchronized (received) {
          received.add(m);
          received.notifyAll();
        }
        incoming.add(m);
      }
    } catch (IOException | RuntimeException e) {
      // the pipe closed
    }
  }

  /** Sends bytes as they are. */
  synchronized void sendRaw(byte[] bytes) throws IOException {
    toServer.write(bytes);
    toServer.flush();
  }

  /** Sends one JSON text in a correct frame. */
  void send(String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(
        ("Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    b.writeBytes(body);
    sendRaw(b.toByteArray());
  }

  void request(int id, String method, JsonElement params) throws IOException {
    JsonObject m = new JsonObject();
    m.addProperty("jsonrpc", "2.0");
    m.addProperty("id", id);
    m.addProperty("method", method);
    m.add("params", params);
    send(m.toString());
  }

  void notify(String method, JsonElement params) throws IOException {
    JsonObject m = new JsonObject();
    m.addProperty("jsonrpc", "2.0");
    m.addProperty("method", method);
    m.add("params", params);
    send(m.toString());
  }

  void initialize() throws Exception {
    request(
        1,
        "initialize",
        JsonParser.parseString("{\"processId\":null,\"rootUri\":null,\"capabilities\":{}}"));
    await(m -> isResponse(m, 1), 20_000);
    notify("initialized", new JsonObject());
  }

  void open(String uri, int version, String text) throws IOException {
    JsonObject doc = new JsonObject();
    doc.addProperty("uri", uri);
    doc.addProperty("languageId", "cmod");
    doc.addProperty("version", version);
    doc.addProperty("text", text);
    JsonObject p = new JsonObject();
    p.add("textDocument", doc);
    notify("textDocument/didOpen", p);
  }

  void change(String uri, int version, String text) throws IOException {
    JsonObject doc = new JsonObject();
    doc.addProperty("uri", uri);
    doc.addProperty("version", version);
    JsonObject change = new JsonObject();
    change.addProperty("text", text);
    JsonArray changes = new JsonArray();
    changes.add(change);
    JsonObject p = new JsonObject();
    p.add("textDocument", doc);
    p.add("contentChanges", changes);
    notify("textDocument/didChange", p);
  }

  /** The next message (in arrival order, skipping others) that matches, within the time. */
  JsonObject await(Predicate<JsonObject> what, long millis) throws InterruptedException {
    long end = System.nanoTime() + millis * 1_000_000L;
    while (true) {
      long left = end - System.nanoTime();
      JsonObject m = left <= 0 ? null : incoming.poll(left, TimeUnit.NANOSECONDS);
      assertNotNull(
          m,
          "no matching message from the server within "
              + millis
              + " ms; received: "
              + receivedSummary());
      if (what.test(m)) {
        return m;
      }
    }
  }

  private final java.util.Map<String, Integer> seen = new java.util.HashMap<>();

  /** The next diagnostics published for a URI (each publication is returned once, in order). */
  JsonObject diagnostics(String uri, long millis) throws InterruptedException {
    long end = System.nanoTime() + millis * 1_000_000L;
    synchronized (received) {
      while (true) {
        List<JsonObject> all = allDiagnostics(uri);
        int n = seen.getOrDefault(uri, 0);
        if (all.size() > n) {
          seen.put(uri, n + 1);
          return all.get(n);
        }
        long left = (end - System.nanoTime()) / 1_000_000L;
        assertNotNull(
            left > 0 ? "" : null,
            "no diagnostics for "
                + uri
                + " within "
                + millis
                + " ms; received: "
                + receivedSummary());
        received.wait(left);
      }
    }
  }

  /** Every publication so far for a URI. */
  List<JsonObject> allDiagnostics(String uri) {
    synchronized (received) {
      return received.stream()
          .filter(m -> isDiagnostics(m, uri))
          .map(m -> m.getAsJsonObject("params"))
          .toList();
    }
  }

  static boolean isResponse(JsonObject m, int id) {
    return !m.has("method")
        && m.has("id")
        && m.get("id").isJsonPrimitive()
        && m.get("id").getAsString().equals(String.valueOf(id));
  }

  static boolean isDiagnostics(JsonObject m, String uri) {
    return m.has("method")
        && m.get("method").getAsString().equals("textDocument/publishDiagnostics")
        && m.getAsJsonObject("params").get("uri").getAsString().equals(uri);
  }

  private String receivedSummary() {
    synchronized (received) {
      StringBuilder s = new StringBuilder();
      for (JsonObject m : received) {
        String t = m.toString();
        s.append(t, 0, Math.min(t.length(), 200)).append('\n');
      }
      return s.toString();
    }
  }

  @Override
  public void close() throws IOException {
    server.shutdown();
    listening.cancel(true);
    toServer.close();
    threads.shutdownNow();
  }
}
