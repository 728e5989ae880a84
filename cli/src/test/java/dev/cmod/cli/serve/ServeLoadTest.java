package dev.cmod.cli.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRunner;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load test of {@code cmod serve} on the loopback address: 2000 requests from 8 client threads
 * against a served MLP. No request may fail, every answer must equal a direct ONNX Runtime run of
 * the same input (1e-6), and the heap after GC must end where it started (within 32 MiB). The
 * throughput and p50/p99 latency are printed next to direct runs on the same process's runtime.
 */
class ServeLoadTest {
  static final int REQUESTS = 2000;
  static final int CLIENTS = 8;

  @TempDir Path dir;

  private static long heapAfterGc() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
    }
    return rt.totalMemory() - rt.freeMemory();
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void servesTwoThousandRequestsWithoutFailureAtFlatMemory() throws Exception {
    ServeFixture.Model m = ServeFixture.compile(dir, "mlp", ServeFixture.MLP);
    ModelRunner session = ModelRunner.of(m.open());
    InferenceServer s =
        InferenceServer.start(
            "mlp",
            m.signature(),
            session,
            java.util.Set.of(),
            ServeFixture.config(8, 2, 64, 1 << 20),
            System.err::println);
    URI infer = URI.create(s.uri() + "/v2/models/mlp/infer");
    try (OnnxRunner direct = m.open()) {
      ModelRunner baseline = ModelRunner.of(direct);
      // warm both paths (JIT, ORT's first runs, connections), then measure
      ServeLoad.overHttp(infer, ServeLoadTest::body, CLIENTS, 200);
      ServeLoad.direct(baseline, ServeLoadTest::feed, CLIENTS, 200);
      long heapBefore = heapAfterGc();
      ServeLoad.Result served = ServeLoad.overHttp(infer, ServeLoadTest::body, CLIENTS, REQUESTS);
      long heapAfter = heapAfterGc();
      ServeLoad.Result alone = ServeLoad.direct(baseline, ServeLoadTest::feed, CLIENTS, REQUESTS);
      System.out.println("cmod serve (HTTP, JSON, batched): " + served.summary());
      System.out.println("direct ONNX Runtime runs:          " + alone.summary());
      System.out.printf(
          "batches: %d runs for %d requests; heap after GC %d -> %d KiB%n",
          s.batcher().runs(), s.batcher().requests(), heapBefore >> 10, heapAfter >> 10);
      assertEquals(0, served.failures(), "failed requests");
      assertEquals(0, alone.failures());
      assertTrue(served.seconds() < 60, "the load took " + served.seconds() + " s");
      for (int i = 0; i < REQUESTS; i++) {
        float[] want = direct.run(feed(i)).get("y").floats();
        float[] got = ServeFixture.outputData(served.bodies()[i], "y");
        double err = ServeFixture.maxError(got, want);
        assertTrue(err <= 1e-6, "request " + i + ": differs from a direct run by " + err);
      }
      assertTrue(
          heapAfter - heapBefore < 32L << 20,
          "the heap grew from " + (heapBefore >> 10) + " to " + (heapAfter >> 10) + " KiB");
    } finally {
      s.stop();
    }
  }

  /** The input of request {@code i}: one row of seeded normal values. */
  static Map<String, Tensor> feed(int i) {
    return Map.of("x", Tensor.ofFloats(new long[] {1, 16}, ServeFixture.randn(i, 16)));
  }

  static byte[] body(int i) {
    return ServeFixture.inferBody("x", new long[] {1, 16}, ServeFixture.randn(i, 16))
        .getBytes(StandardCharsets.UTF_8);
  }
}
