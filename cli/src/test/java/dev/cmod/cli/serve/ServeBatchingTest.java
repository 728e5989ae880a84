package dev.cmod.cli.serve;

import static dev.cmod.cli.serve.ServeFixture.inferBody;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRunner;
import java.net.ConnectException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batcher behind the server, observed through a runner held at its gate: queued requests of
 * equal sizes share one run (and each gets its own rows back, equal to a direct run), requests with
 * another sequence length do not, a full queue answers 503, and stopping answers every request in
 * flight before the session is closed.
 */
class ServeBatchingTest {
  @TempDir Path dir;

  private static void waitFor(java.util.function.BooleanSupplier what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!what.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting");
      }
      Thread.sleep(5);
    }
  }

  private static CompletableFuture<HttpResponse<String>> send(InferenceServer s, String body) {
    return ServeFixture.HTTP.sendAsync(
        ServeFixture.postRequest(s, "/v2/models/m/infer", body),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void queuedRequestsOfOneSizeShareARunAndOtherSizesDoNot() throws Exception {
    ServeFixture.Model m = ServeFixture.compile(dir, "seq", ServeFixture.SEQ);
    ServeFixture.GatedRunner gated = new ServeFixture.GatedRunner(m.open());
    InferenceServer s = ServeFixture.start("m", m, gated, ServeFixture.config(8, 5, 16, 1 << 20));
    try (OnnxRunner direct = m.open()) {
      gated.hold();
      // the first request holds the worker at the gate; the rest queue up behind it
      List<float[]> xs = new ArrayList<>();
      List<long[]> shapes = new ArrayList<>();
      List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
      long[][] order = {{1, 2}, {2, 3}, {1, 5}, {1, 3}, {3, 5}};
      for (int i = 0; i < order.length; i++) {
        long[] shape = {order[i][0], order[i][1], 8};
        float[] x = ServeFixture.randn(i, (int) (shape[0] * shape[1] * 8));
        xs.add(x);
        shapes.add(shape);
        sent.add(send(s, inferBody("x", shape, x)));
        if (i == 0) {
          assertTrue(gated.entered.await(30, TimeUnit.SECONDS));
        }
      }
      waitFor(() -> s.batcher().queued() == order.length - 1);
      gated.open();
      for (int i = 0; i < order.length; i++) {
        HttpResponse<String> r = sent.get(i).get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        float[] want =
            direct.run(Map.of("x", Tensor.ofFloats(shapes.get(i), xs.get(i)))).get("y").floats();
        assertArrayEquals(want, ServeFixture.outputData(r.body(), "y"), 1e-6f, "request " + i);
      }
      // three runs: the first alone, then seq 3 (2 + 1 rows), then seq 5 (1 + 3 rows)
      Set<String> runs = new HashSet<>();
      for (long[] b : gated.batchShapes) {
        runs.add(Arrays.toString(b));
      }
      assertEquals(Set.of("[1, 2, 8]", "[3, 3, 8]", "[4, 5, 8]"), runs);
      assertEquals(3, s.batcher().runs());
      assertEquals(5, s.batcher().requests());
    } finally {
      s.stop();
    }
  }

  @Test
  void aRequestThatFailsAMergedRunFailsAlone() throws Exception {
    ServeFixture.Model m = ServeFixture.compile(dir, "mlp", ServeFixture.MLP);
    ServeFixture.GatedRunner gated = new ServeFixture.GatedRunner(m.open());
    // a runner that refuses any batch holding the value 999 (as ONNX Runtime refuses bad indices)
    ModelRunner picky =
        new ModelRunner() {
          @Override
          public Map<String, Tensor> run(Map<String, Tensor> feed, String adapter) {
            for (float v : feed.get("x").floats()) {
              if (v == 999f) {
                throw new IllegalArgumentException("the value 999 is refused");
              }
            }
            return gated.run(feed, adapter);
          }

          @Override
          public void close() {
            gated.close();
          }
        };
    InferenceServer s = ServeFixture.start("m", m, picky, ServeFixture.config(8, 5, 16, 1 << 20));
    try (OnnxRunner direct = m.open()) {
      gated.hold();
      List<float[]> xs = new ArrayList<>();
      List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        float[] x = ServeFixture.randn(200 + i, 16);
        if (i == 2) {
          x[5] = 999f;
        }
        xs.add(x);
        sent.add(send(s, inferBody("x", new long[] {1, 16}, x)));
        if (i == 0) {
          assertTrue(gated.entered.await(30, TimeUnit.SECONDS));
        }
      }
      waitFor(() -> s.batcher().queued() == 3);
      gated.open();
      for (int i = 0; i < 4; i++) {
        HttpResponse<String> r = sent.get(i).get(60, TimeUnit.SECONDS);
        if (i == 2) {
          assertEquals(500, r.statusCode(), r.body());
          assertTrue(r.body().contains("inference failed: the value 999 is refused"), r.body());
          continue;
        }
        assertEquals(200, r.statusCode(), r.body());
        float[] want =
            direct
                .run(Map.of("x", Tensor.ofFloats(new long[] {1, 16}, xs.get(i))))
                .get("y")
                .floats();
        assertArrayEquals(want, ServeFixture.outputData(r.body(), "y"), 1e-6f);
      }
    } finally {
      s.stop();
    }
  }

  @Test
  void aFullQueueAnswers503() throws Exception {
    ServeFixture.Model m = ServeFixture.compile(dir, "mlp", ServeFixture.MLP);
    ServeFixture.GatedRunner gated = new ServeFixture.GatedRunner(m.open());
    InferenceServer s = ServeFixture.start("m", m, gated, ServeFixture.config(1, 0, 2, 1 << 20));
    try {
      gated.hold();
      String body = inferBody("x", new long[] {1, 16}, new float[16]);
      List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
      held.add(send(s, body));
      assertTrue(gated.entered.await(30, TimeUnit.SECONDS));
      held.add(send(s, body));
      held.add(send(s, body));
      waitFor(() -> s.batcher().queued() == 2);
      HttpResponse<String> refused = send(s, body).get(30, TimeUnit.SECONDS);
      assertEquals(503, refused.statusCode(), refused.body());
      assertTrue(refused.body().contains("the queue is full (2 requests waiting)"), refused.body());
      gated.open();
      for (CompletableFuture<HttpResponse<String>> f : held) {
        assertEquals(200, f.get(60, TimeUnit.SECONDS).statusCode());
      }
    } finally {
      s.stop();
    }
  }

  @Test
  void stoppingAnswersTheRequestsInFlightThenClosesTheSession() throws Exception {
    ServeFixture.Model m = ServeFixture.compile(dir, "mlp", ServeFixture.MLP);
    ServeFixture.GatedRunner gated = new ServeFixture.GatedRunner(m.open());
    InferenceServer s = ServeFixture.start("m", m, gated, ServeFixture.config(4, 0, 16, 1 << 20));
    int port = s.port();
    gated.hold();
    List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
    List<float[]> xs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      float[] x = ServeFixture.randn(100 + i, 16);
      xs.add(x);
      inFlight.add(send(s, inferBody("x", new long[] {1, 16}, x)));
      if (i == 0) {
        assertTrue(gated.entered.await(30, TimeUnit.SECONDS));
      }
    }
    waitFor(() -> s.batcher().queued() == 2);
    CompletableFuture<Void> stopping = CompletableFuture.runAsync(s::stop);
    // the port closes while the requests are still held
    waitFor(
        () -> {
          try (Socket probe = new Socket("127.0.0.1", port)) {
            return false;
          } catch (ConnectException refusedNow) {
            return true;
          } catch (java.io.IOException other) {
            return false;
          }
        });
    assertTrue(!stopping.isDone() && !gated.closed, "stop waits for the requests in flight");
    gated.open();
    try (OnnxRunner direct = m.open()) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> r = inFlight.get(i).get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        float[] want =
            direct
                .run(Map.of("x", Tensor.ofFloats(new long[] {1, 16}, xs.get(i))))
                .get("y")
                .floats();
        assertArrayEquals(want, ServeFixture.outputData(r.body(), "y"), 1e-6f);
      }
    }
    stopping.get(60, TimeUnit.SECONDS);
    assertTrue(gated.closed, "the session is closed once the server has stopped");
    V2Json.InferRequest late =
        new V2Json.InferRequest(
            null,
            Map.of("x", Tensor.ofFloats(new long[] {1, 16}, new float[16])),
            List.of("y"),
            null,
            1);
    V2Error e = assertThrows(V2Error.class, () -> s.batcher().submit(late));
    assertEquals(503, e.status);
  }
}
