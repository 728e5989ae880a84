package dev.cmod.cli.serve;

import static dev.cmod.cli.serve.ServeFixture.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Integer inputs through JSON: INT64 values past 2^53 come back exact, INT8 values are range
 * checked, fractions are refused, and members in any order (data before datatype) read the same.
 */
class ServeDatatypesTest {
  @TempDir static Path dir;
  static InferenceServer server;

  static final String INTS =
      """
      model Ints {
        input ids: exact i64[batch, 3]
        input small: exact i8[batch, 3]
        output same: exact i64[batch, 3] = ids
        output wide: exact f32[batch, 3] = cast(small, f32)
      }
      """;

  @BeforeAll
  static void start() throws Exception {
    ServeFixture.Model m = ServeFixture.compile(dir, "ints", INTS);
    server =
        ServeFixture.start(
            "ints",
            m,
            new ServeFixture.GatedRunner(m.open()),
            ServeFixture.config(4, 1, 8, 1 << 16));
  }

  @AfterAll
  static void stop() {
    server.stop();
  }

  private static String body(String ids, String small) {
    return "{\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[1,3],\"data\":"
        + ids
        + "},{\"data\":"
        + small
        + ",\"shape\":[1,3],\"datatype\":\"INT8\",\"name\":\"small\"}]}";
  }

  private static JsonObject output(HttpResponse<String> r, String name) {
    for (var e : JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonArray("outputs")) {
      if (e.getAsJsonObject().get("name").getAsString().equals(name)) {
        return e.getAsJsonObject();
      }
    }
    throw new AssertionError(r.body());
  }

  @Test
  void integersRoundTripExactlyInAnyMemberOrder() throws Exception {
    HttpResponse<String> r =
        post(server, "/v2/models/ints/infer", body("[[9007199254740993,-1,0]]", "[-128,127,5]"));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("[9007199254740993,-1,0]", output(r, "same").get("data").toString());
    assertEquals("INT64", output(r, "same").get("datatype").getAsString());
    assertEquals("[-128.0,127.0,5.0]", output(r, "wide").get("data").toString());
  }

  @Test
  void outOfRangeAndFractionalIntegersAreRefused() throws Exception {
    HttpResponse<String> r = post(server, "/v2/models/ints/infer", body("[1,2,3]", "[0,128,0]"));
    assertEquals(400, r.statusCode());
    assertTrue(
        r.body().contains("input 'small' data holds 128, outside the range of INT8"), r.body());
    r = post(server, "/v2/models/ints/infer", body("[1,2.5,3]", "[0,1,0]"));
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("input 'ids' data holds 2.5, not an integer"), r.body());
    r = post(server, "/v2/models/ints/infer", body("[1,true,3]", "[0,1,0]"));
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("holds true, not a number"), r.body());
    r = post(server, "/v2/models/ints/infer", body("[1,2,3]", "[0,1,null]"));
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("input 'small' data holds null, not a number"), r.body());
  }
}
