package dev.cmod.cli.serve;

import static dev.cmod.cli.serve.ServeFixture.get;
import static dev.cmod.cli.serve.ServeFixture.inferBody;
import static dev.cmod.cli.serve.ServeFixture.post;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRunner;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The v2 endpoints of one served MLP: health, metadata, infer (flat and nested data, chosen
 * outputs) against direct ONNX Runtime runs, and every class of bad request with its status and a
 * v2 error body that holds no stack trace.
 */
class ServeRequestsTest {
  @TempDir static Path dir;
  static ServeFixture.Model model;
  static OnnxRunner direct;
  static InferenceServer server;

  @BeforeAll
  static void start() throws Exception {
    model = ServeFixture.compile(dir, "mlp", ServeFixture.MLP);
    direct = model.open();
    server =
        ServeFixture.start(
            "mlp",
            model,
            new ServeFixture.GatedRunner(model.open()),
            ServeFixture.config(8, 1, 16, 64 * 1024));
  }

  @AfterAll
  static void stop() {
    server.stop();
    direct.close();
  }

  private static JsonObject json(HttpResponse<String> r) {
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  /** The response is a v2 error with this status whose message contains {@code part}. */
  private static void refused(HttpResponse<String> r, int status, String part) {
    assertEquals(status, r.statusCode(), r.body());
    String msg = json(r).get("error").getAsString();
    assertTrue(msg.contains(part), msg);
    assertFalse(r.body().contains("Exception") || r.body().contains("\tat "), r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
  }

  @Test
  void healthAndMetadataDescribeTheModel() throws Exception {
    assertEquals(200, get(server, "/v2/health/live").statusCode());
    assertEquals(200, get(server, "/v2/health/ready").statusCode());
    assertEquals(200, get(server, "/v2/models/mlp/ready").statusCode());
    JsonObject meta = json(get(server, "/v2/models/mlp"));
    assertEquals("mlp", meta.get("name").getAsString());
    JsonObject in = meta.getAsJsonArray("inputs").get(0).getAsJsonObject();
    assertEquals("x", in.get("name").getAsString());
    assertEquals("FP32", in.get("datatype").getAsString());
    assertEquals("[-1,16]", in.get("shape").toString());
    JsonObject out = meta.getAsJsonArray("outputs").get(0).getAsJsonObject();
    assertEquals("y", out.get("name").getAsString());
    assertEquals("[-1,4]", out.get("shape").toString());
    assertEquals(meta, json(get(server, "/v2/models/mlp/versions/1")));
    refused(get(server, "/v2/models/mlp/versions/2"), 404, "has no version '2'");
    refused(get(server, "/v2/models/other"), 404, "no model 'other'");
    refused(get(server, "/v2/nowhere"), 404, "no such path");
    refused(get(server, "/v2/models/mlp/infer"), 405, "POST");
  }

  @Test
  void inferEqualsADirectRunForFlatAndNestedData() throws Exception {
    float[] x = ServeFixture.randn(7, 3 * 16);
    float[] want =
        direct.run(Map.of("x", Tensor.ofFloats(new long[] {3, 16}, x))).get("y").floats();
    HttpResponse<String> flat =
        post(server, "/v2/models/mlp/infer", inferBody("x", new long[] {3, 16}, x));
    assertEquals(200, flat.statusCode(), flat.body());
    JsonObject out = json(flat).getAsJsonArray("outputs").get(0).getAsJsonObject();
    assertEquals("FP32", out.get("datatype").getAsString());
    assertEquals("[3,4]", out.get("shape").toString());
    assertArrayEquals(want, ServeFixture.outputData(flat.body(), "y"), 1e-6f);
    // the same values as rows of a nested array, with an id and the output asked for by name
    StringBuilder nested = new StringBuilder("{\"id\":\"r-1\",\"inputs\":[{\"name\":\"x\",");
    nested.append("\"datatype\":\"FP32\",\"shape\":[3,16],\"data\":[");
    for (int r = 0; r < 3; r++) {
      nested.append(r > 0 ? "," : "").append('[');
      for (int c = 0; c < 16; c++) {
        nested.append(c > 0 ? "," : "").append(Float.toString(x[r * 16 + c]));
      }
      nested.append(']');
    }
    nested.append("]}],\"outputs\":[{\"name\":\"y\"}]}");
    HttpResponse<String> resp = post(server, "/v2/models/mlp/infer", nested.toString());
    assertEquals(200, resp.statusCode(), resp.body());
    assertEquals("r-1", json(resp).get("id").getAsString());
    assertEquals("mlp", json(resp).get("model_name").getAsString());
    assertArrayEquals(want, ServeFixture.outputData(resp.body(), "y"), 1e-6f);
  }

  @Test
  void badJsonIsRefused() throws Exception {
    refused(post(server, "/v2/models/mlp/infer", "{\"inputs\": [}"), 400, "not valid JSON");
    refused(post(server, "/v2/models/mlp/infer", "{} {}"), 400, "not valid JSON");
    refused(post(server, "/v2/models/mlp/infer", "[1, 2]"), 400, "must be a JSON object");
    refused(post(server, "/v2/models/mlp/infer", "{\"inputs\": []}"), 400, "\"inputs\"");
    String textData =
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,16],\"data\":[\"a\""
            + ",0".repeat(15)
            + "]}]}";
    refused(post(server, "/v2/models/mlp/infer", textData), 400, "not a number");
  }

  @Test
  void wrongDatatypeIsRefused() throws Exception {
    String body =
        inferBody("x", new long[] {1, 16}, new float[16]).replace("\"FP32\"", "\"INT64\"");
    refused(
        post(server, "/v2/models/mlp/infer", body),
        400,
        "input 'x' is FP32, the request gives INT64");
    refused(
        post(server, "/v2/models/mlp/infer", body.replace("\"INT64\"", "\"BYTES\"")), 400, "BYTES");
  }

  @Test
  void wrongShapeIsRefused() throws Exception {
    refused(
        post(server, "/v2/models/mlp/infer", inferBody("x", new long[] {2, 8}, new float[16])),
        400,
        "axis 1 is 8, expected 16");
    refused(
        post(server, "/v2/models/mlp/infer", inferBody("x", new long[] {16}, new float[16])),
        400,
        "has rank 2");
    refused(
        post(server, "/v2/models/mlp/infer", inferBody("x", new long[] {2, 16}, new float[16])),
        400,
        "(32 values), the data holds 16");
  }

  @Test
  void unknownModelInputOrOutputIsRefused() throws Exception {
    String ok = inferBody("x", new long[] {1, 16}, new float[16]);
    refused(post(server, "/v2/models/nope/infer", ok), 404, "no model 'nope'");
    refused(
        post(server, "/v2/models/mlp/infer", inferBody("z", new long[] {1, 16}, new float[16])),
        400,
        "no input 'z'");
    refused(
        post(
            server,
            "/v2/models/mlp/infer",
            ok.replace("}]}", "}],\"outputs\":[{\"name\":\"q\"}]}")),
        400,
        "no output 'q'");
    refused(
        post(
            server,
            "/v2/models/mlp/infer",
            ok.replace("]}]}", "]}],\"parameters\":{\"adapter\":\"style\"}}")),
        400,
        "no adapter 'style'");
  }

  /**
   * What the server answers, read up to the end of its JSON body (the connection may stay open).
   */
  private static String untilBodyEnds(InputStream in) throws java.io.IOException {
    StringBuilder sb = new StringBuilder();
    for (int c = in.read(); c >= 0; c = in.read()) {
      sb.append((char) c);
      if (c == '}' && sb.indexOf("\r\n\r\n") >= 0) {
        break;
      }
    }
    return sb.toString();
  }

  @Test
  void oversizeBodyIsRefusedWithoutReadingIt() throws Exception {
    // the declared length alone is enough: the body is never sent
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                  + "\r\nContent-Length: 1000000000\r\n\r\n{\"inputs\":")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String answer = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
      assertEquals("HTTP/1.1 413", answer);
    }
    // a chunked body (no declared length) is refused once it passes the limit
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                  + "\r\nTransfer-Encoding: chunked\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = new byte[8192];
      java.util.Arrays.fill(chunk, (byte) ' ');
      for (int i = 0; i < 9; i++) { // 72 KiB, past the 64 KiB limit
        out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(chunk);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      out.flush();
      String answer = untilBodyEnds(s.getInputStream());
      assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
      assertTrue(answer.contains("more than the limit of 65536 bytes"), answer);
    }
    assertEquals(200, get(server, "/v2/health/ready").statusCode());
  }
}
