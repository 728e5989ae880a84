package dev.cmod.cli.serve;

import dev.cmod.ir.tensor.Tensor;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * A load generator for {@code cmod serve} and its baseline: {@code clients} threads send {@code
 * requests} infer requests in all over HTTP (or run them directly on a {@link ModelRunner}), and
 * the wall time and per-request latencies are summarized. The load test and {@code
 * scripts/ServeBench.java} share it, so the figures in docs/benchmarks.md come from the code the
 * test checks.
 */
public final class ServeLoad {
  private ServeLoad() {}

  /**
   * What a run measured.
   *
   * @param bodies the response bodies by request index (null for a direct run)
   */
  public record Result(
      int requests, int failures, double seconds, long[] latencyNanos, String[] bodies) {
    /** Requests per second. */
    public double throughput() {
      return requests / seconds;
    }

    /** The {@code q}-quantile of the latencies in milliseconds (nearest rank). */
    public double quantileMillis(double q) {
      long[] s = latencyNanos.clone();
      Arrays.sort(s);
      int rank = (int) Math.ceil(q * s.length);
      return s[Math.max(0, Math.min(s.length - 1, rank - 1))] / 1e6;
    }

    /** One line: count, failures, throughput, p50 and p99. */
    public String summary() {
      return String.format(
          java.util.Locale.ROOT,
          "%d requests, %d failed, %.1f s, %.0f req/s, p50 %.2f ms, p99 %.2f ms",
          requests,
          failures,
          seconds,
          throughput(),
          quantileMillis(0.5),
          quantileMillis(0.99));
    }
  }

  /** Sends request {@code i}'s body ({@code body.apply(i)}) to {@code infer}, from every client. */
  public static Result overHttp(URI infer, IntFunction<byte[]> body, int clients, int requests)
      throws InterruptedException {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    String[] bodies = new String[requests];
    AtomicInteger failures = new AtomicInteger();
    Result r =
        drive(
            clients,
            requests,
            i -> {
              HttpRequest req =
                  HttpRequest.newBuilder(infer)
                      .timeout(Duration.ofSeconds(30))
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofByteArray(body.apply(i)))
                      .build();
              try {
                HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
                bodies[i] = resp.body();
                if (resp.statusCode() != 200) {
                  failures.incrementAndGet();
                }
              } catch (IOException e) {
                failures.incrementAndGet();
              }
            });
    return new Result(requests, failures.get(), r.seconds(), r.latencyNanos(), bodies);
  }

  /** Runs request {@code i}'s inputs directly on {@code runner}, from every client. */
  public static Result direct(
      ModelRunner runner, IntFunction<Map<String, Tensor>> feed, int clients, int requests)
      throws InterruptedException {
    AtomicInteger failures = new AtomicInteger();
    Result r =
        drive(
            clients,
            requests,
            i -> {
              try {
                runner.run(feed.apply(i), null);
              } catch (RuntimeException e) {
                failures.incrementAndGet();
              }
            });
    return new Result(requests, failures.get(), r.seconds(), r.latencyNanos(), null);
  }

  private interface Call {
    void run(int i) throws InterruptedException;
  }

  private static Result drive(int clients, int requests, Call call) throws InterruptedException {
    long[] lat = new long[requests];
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<?>> running = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int c = 0; c < clients; c++) {
      running.add(
          pool.submit(
              () -> {
                for (int i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
                  long s = System.nanoTime();
                  call.run(i);
                  lat[i] = System.nanoTime() - s;
                }
                return null;
              }));
    }
    try {
      for (Future<?> f : running) {
        f.get();
      }
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("a load client failed", e.getCause());
    } finally {
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    return new Result(requests, 0, seconds, lat, null);
  }
}
