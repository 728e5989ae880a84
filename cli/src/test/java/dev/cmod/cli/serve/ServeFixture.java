package dev.cmod.cli.serve;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRunner;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What the serve tests share: small models compiled from .cmod source, servers on a free loopback
 * port, a runner that can be held at its gate, and HTTP helpers.
 */
final class ServeFixture {
  private ServeFixture() {}

  /** A two-layer perceptron with a batch axis: 16 features in, 4 out. */
  static final String MLP =
      """
      import std.nn.{Linear}
      model Mlp {
        input x: f32[batch, 16]
        output y: f32[batch, 4] = x |> Linear(16, 32) |> gelu |> Linear(32, 4)
      }
      """;

  /** A per-position projection with a second symbolic axis (sequence length). */
  static final String SEQ =
      """
      import std.nn.{Linear}
      model Seq {
        input x: f32[batch, seq, 8]
        output y: f32[batch, seq, 4] = x |> Linear(8, 4)
      }
      """;

  /** A compiled model: its bytes and message. */
  record Model(byte[] bytes, ModelProto proto) {
    ModelSignature signature() {
      return ModelSignature.of(proto);
    }

    OnnxRunner open() {
      return OnnxRunner.open(bytes, OnnxRunner.Device.CPU, 1);
    }
  }

  static Model compile(Path dir, String name, String source) throws IOException {
    Path src = dir.resolve(name + ".cmod");
    Files.writeString(src, source);
    Toolchain.Compiled c = Toolchain.compile(src, CompileOptions.defaults().withOptLevel(2));
    if (!c.ok()) {
      throw new IllegalStateException("does not compile: " + c.result().diagnostics());
    }
    return new Model(c.onnx(), c.model());
  }

  static InferenceServer.Config config(int maxBatch, long delayMs, int maxQueue, long maxBytes) {
    return new InferenceServer.Config(
        "127.0.0.1", 0, maxBatch, delayMs, maxQueue, maxBytes, 30_000);
  }

  static InferenceServer start(String name, Model m, ModelRunner r, InferenceServer.Config c)
      throws IOException {
    return InferenceServer.start(name, m.signature(), r, Set.of(), c, System.err::println);
  }

  /** The ONNX Runtime session as a runner, with a gate tests may close to hold runs. */
  static final class GatedRunner implements ModelRunner {
    final OnnxRunner session;
    final List<long[]> batchShapes = java.util.Collections.synchronizedList(new ArrayList<>());
    final CountDownLatch entered = new CountDownLatch(1);
    private volatile CountDownLatch gate = new CountDownLatch(0);
    volatile boolean closed;

    GatedRunner(OnnxRunner session) {
      this.session = session;
    }

    /** Holds every run until {@link #open} is called. */
    void hold() {
      gate = new CountDownLatch(1);
    }

    void open() {
      gate.countDown();
    }

    @Override
    public Map<String, Tensor> run(Map<String, Tensor> feed, String adapter) {
      batchShapes.add(feed.values().iterator().next().shape());
      entered.countDown();
      try {
        if (!gate.await(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the gate stayed shut");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return session.run(feed);
    }

    @Override
    public void close() {
      closed = true;
      session.close();
    }
  }

  static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  static HttpResponse<String> get(InferenceServer s, String path)
      throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(s.uri() + path)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(InferenceServer s, String path, String body)
      throws IOException, InterruptedException {
    return HTTP.send(postRequest(s, path, body), HttpResponse.BodyHandlers.ofString());
  }

  static HttpRequest postRequest(InferenceServer s, String path, String body) {
    return HttpRequest.newBuilder(URI.create(s.uri() + path))
        .timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  /** A v2 infer body with one FP32 input {@code name} of {@code shape}. */
  static String inferBody(String name, long[] shape, float[] data) {
    StringBuilder sb = new StringBuilder("{\"inputs\":[{\"name\":\"").append(name);
    sb.append("\",\"datatype\":\"FP32\",\"shape\":").append(java.util.Arrays.toString(shape));
    sb.append(",\"data\":[");
    for (int i = 0; i < data.length; i++) {
      sb.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%s", Float.toString(data[i])));
    }
    return sb.append("]}]}").toString();
  }

  /** Seeded normal values. */
  static float[] randn(long seed, int n) {
    java.util.Random r = new java.util.Random(seed);
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) r.nextGaussian();
    }
    return f;
  }

  /** The FP32 data of output {@code name} of a v2 response body. */
  static float[] outputData(String body, String name) {
    var root = com.google.gson.JsonParser.parseString(body).getAsJsonObject();
    for (var e : root.getAsJsonArray("outputs")) {
      var o = e.getAsJsonObject();
      if (o.get("name").getAsString().equals(name)) {
        var a = o.getAsJsonArray("data");
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
          f[i] = a.get(i).getAsFloat();
        }
        return f;
      }
    }
    throw new AssertionError("no output " + name + " in " + body);
  }

  /** Largest |a - b| / max(1, |b|). */
  static double maxError(float[] a, float[] b) {
    if (a.length != b.length) {
      return Double.POSITIVE_INFINITY;
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
    }
    return m;
  }
}
