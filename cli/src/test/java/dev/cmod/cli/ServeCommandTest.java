package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import dev.cmod.cli.serve.InferenceServer;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRunner;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cmod serve} as a command: it compiles the model once and prints its URL, serves .onnx
 * files as they are, refuses bad options and a taken port with diagnostics, returns 0 once stopped,
 * and stops gracefully on SIGTERM (in a separate JVM).
 */
class ServeCommandTest extends CommandLineHarness {
  @TempDir Path dir;

  private static final String MLP =
      """
      import std.nn.{Linear}
      model Mlp {
        input x: f32[batch, 6]
        output y: f32[batch, 3] = x |> Linear(6, 3) |> relu
      }
      """;

  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static final String BODY =
      "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2,6],"
          + "\"data\":[[1,2,3,4,5,6],[-1,0.5,0,2,-3,1]]}]}";

  @AfterEach
  void forget() {
    ServeCommand.started = s -> {};
  }

  private static HttpResponse<String> post(URI uri, String body) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Starts {@code cmod serve ARGS} on a thread; the server it started and its exit code. */
  private record Serving(InferenceServer server, CompletableFuture<Integer> rc) {}

  private Serving serve(String... args) throws Exception {
    BlockingQueue<InferenceServer> started = new ArrayBlockingQueue<>(1);
    ServeCommand.started = started::add;
    CompletableFuture<Integer> rc = CompletableFuture.supplyAsync(() -> run(args));
    InferenceServer s = null;
    while (s == null && !rc.isDone()) {
      s = started.poll(100, TimeUnit.MILLISECONDS);
    }
    assertNotNull(s, "the server did not start: " + err());
    return new Serving(s, rc);
  }

  @Test
  void servesTheCompiledModelUntilStopped() throws Exception {
    Path src = dir.resolve("mlp.cmod");
    Files.writeString(src, MLP);
    Serving sv =
        serve("serve", src.toString(), "--port", "0", "--max-batch", "4", "--threads", "1");
    String base = sv.server().uri() + "/v2/models/mlp";
    assertTrue(
        out()
            .contains("cmod serve: model 'mlp' at " + base + " (1 input(s), batches up to 4 rows)"),
        out());
    HttpResponse<String> r = post(URI.create(base + "/infer"), BODY);
    assertEquals(200, r.statusCode(), r.body());
    Toolchain.Compiled c = Toolchain.compile(src, CompileOptions.defaults().withOptLevel(2));
    try (OnnxRunner direct = OnnxRunner.open(c.onnx(), OnnxRunner.Device.CPU)) {
      float[] want =
          direct
              .run(
                  Map.of(
                      "x",
                      Tensor.ofFloats(
                          new long[] {2, 6},
                          new float[] {1, 2, 3, 4, 5, 6, -1, 0.5f, 0, 2, -3, 1})))
              .get("y")
              .floats();
      var data =
          com.google.gson.JsonParser.parseString(r.body())
              .getAsJsonObject()
              .getAsJsonArray("outputs")
              .get(0)
              .getAsJsonObject()
              .getAsJsonArray("data");
      float[] got = new float[data.size()];
      for (int i = 0; i < got.length; i++) {
        got[i] = data.get(i).getAsFloat();
      }
      assertArrayEquals(want, got, 1e-6f);
    }
    sv.server().stop();
    assertEquals(0, sv.rc().get(60, TimeUnit.SECONDS));
    assertTrue(out().contains("cmod serve: stopped"), out());
  }

  @Test
  void servesAnOnnxFileAsItIs() throws Exception {
    Path src = dir.resolve("mlp.cmod");
    Files.writeString(src, MLP);
    Path onnx = dir.resolve("net.onnx");
    assertEquals(0, run("compile", src.toString(), "-o", onnx.toString()));
    Serving sv = serve("serve", onnx.toString(), "--port", "0", "--name", "net-1");
    try {
      HttpResponse<String> meta =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(sv.server().uri() + "/v2/models/net-1")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, meta.statusCode(), meta.body());
      assertTrue(
          meta.body().contains("{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,6]}"),
          meta.body());
      assertEquals(
          200, post(URI.create(sv.server().uri() + "/v2/models/net-1/infer"), BODY).statusCode());
    } finally {
      sv.server().stop();
    }
    assertEquals(0, sv.rc().get(60, TimeUnit.SECONDS));
  }

  @Test
  void aTakenPortAndBadOptionsAreRefused() throws Exception {
    Path src = dir.resolve("mlp.cmod");
    Files.writeString(src, MLP);
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertEquals(1, run("serve", src.toString(), "--port", Integer.toString(port)));
      assertTrue(err().contains("error[CM0630]: cannot listen on 127.0.0.1:" + port), err());
      assertFalse(err().contains("\tat ") || err().contains("Exception"), err());
    }
    assertEquals(2, run("serve", src.toString(), "--max-batch", "0"));
    assertTrue(err().contains("--max-batch must be at least 1"), err());
    assertEquals(2, run("serve", src.toString(), "--name", "a/b"));
    assertTrue(err().contains("--name must be"), err());
    assertEquals(2, run("serve", src.toString(), "--port", "70000"));
    assertEquals(1, run("serve", dir.resolve("missing.onnx").toString()));
    assertTrue(err().contains("error[CM0501]"), err());
  }

  @Test
  void aModelWithAStringInputIsRefused() throws Exception {
    var type =
        OnnxMl.TypeProto.newBuilder()
            .setTensorType(
                OnnxMl.TypeProto.Tensor.newBuilder()
                    .setElemType(8) // STRING
                    .setShape(
                        OnnxMl.TensorShapeProto.newBuilder()
                            .addDim(
                                OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(2))));
    OnnxMl.GraphProto g =
        OnnxMl.GraphProto.newBuilder()
            .setName("g")
            .addInput(OnnxMl.ValueInfoProto.newBuilder().setName("s").setType(type))
            .addOutput(OnnxMl.ValueInfoProto.newBuilder().setName("o").setType(type))
            .addNode(
                OnnxMl.NodeProto.newBuilder().setOpType("Identity").addInput("s").addOutput("o"))
            .build();
    OnnxMl.ModelProto model =
        OnnxMl.ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(17))
            .setGraph(g)
            .build();
    Path onnx = dir.resolve("strings.onnx");
    Files.write(onnx, model.toByteArray());
    assertEquals(1, run("serve", onnx.toString(), "--port", "0"));
    assertTrue(
        err().contains("error[CM0631]: " + onnx + ": input 's' has ONNX element type 8"), err());
  }

  @Test
  void sigtermStopsTheServerGracefully() throws Exception {
    Path src = dir.resolve("mlp.cmod");
    Files.writeString(src, MLP);
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                java.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.cmod.cli.Main",
                "serve",
                src.toString(),
                "--port",
                "0",
                "--threads",
                "1")
            .redirectErrorStream(true)
            .start();
    try {
      BufferedReader lines =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      StringBuffer seen = new StringBuffer();
      CompletableFuture<String> url = new CompletableFuture<>();
      Thread reader =
          new Thread(
              () -> {
                Pattern at = Pattern.compile("at (http://127\\.0\\.0\\.1:\\d+/v2/models/mlp) ");
                try {
                  for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    seen.append(line).append('\n');
                    Matcher m = at.matcher(line);
                    if (m.find()) {
                      url.complete(m.group(1));
                    }
                  }
                } catch (java.io.IOException closed) {
                  // the process has ended
                }
                url.complete(null);
              });
      reader.start();
      String base = url.get(120, TimeUnit.SECONDS);
      assertNotNull(base, "no startup line: " + seen);
      assertEquals(200, post(URI.create(base + "/infer"), BODY).statusCode());
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the server did not stop on SIGTERM");
      reader.join(10_000);
      assertFalse(
          seen.toString().contains("Exception") || seen.toString().contains("\tat "),
          seen.toString());
      // 143: ended by SIGTERM after the shutdown hook stopped the server
      assertEquals(143, p.exitValue(), seen.toString());
    } finally {
      p.destroyForcibly();
    }
  }
}
