package dev.cmod.compiler.sema;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How real data becomes a model input ({@code input photo: Image[3, 224, 224] from image(resize =
 * 256, crop = 224)}) or an output becomes real data ({@code output species: f32[50] to
 * labels("species.txt")}), checked at compile time and recorded in the artifact so that {@code cmod
 * run}, the embedding API and any other tool can reproduce it.
 *
 * <p>{@code args} holds every argument of the codec with its default filled in, as JSON-ready
 * values ({@code Long}, {@code Double}, {@code Boolean}, {@code String}, lists of them). {@code
 * graphSteps} are the steps compiled into the artifact (normalization on decoded tensors); {@code
 * hostSteps} those that run in Java before or after it (decoding files, resizing, tokenizing). A
 * file a codec names is kept as written (relative to the source file) with its SHA-256, so the
 * artifact does not depend on where it was compiled.
 */
public record DataCodec(
    String port,
    boolean input,
    String kind,
    Map<String, Object> args,
    List<String> graphSteps,
    List<String> hostSteps,
    String fileSha256) {

  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  /**
   * The codecs the language has, for editors: {@code "from image"} to a line saying what it fits
   * and which arguments it takes.
   */
  public static Map<String, String> catalog() {
    return Codecs.catalog();
  }

  /** The metadata key under which an input's (or output's) codec is recorded in the artifact. */
  public String metadataKey() {
    return metadataKey(port, input);
  }

  public static String metadataKey(String port, boolean input) {
    return (input ? "cmod.input." : "cmod.output.") + port + (input ? ".from" : ".to");
  }

  /** The SHA-256 of a codec file's bytes, in lower-case hex, as the artifact records it. */
  public static String sha256(byte[] bytes) {
    return CodecFiles.sha256(bytes);
  }

  /** The file the codec names (tokenizer, labels, characters), as written; null if none. */
  public String file() {
    return args.get("file") instanceof String s ? s : null;
  }

  public String string(String name) {
    return args.get(name) instanceof String s ? s : null;
  }

  /** An integer argument; {@code dflt} when it is absent. */
  public long integer(String name, long dflt) {
    return args.get(name) instanceof Number n ? n.longValue() : dflt;
  }

  public double number(String name, double dflt) {
    return args.get(name) instanceof Number n ? n.doubleValue() : dflt;
  }

  public boolean flag(String name) {
    return Boolean.TRUE.equals(args.get(name));
  }

  /** A list argument as doubles (a single number is a list of one); null when absent. */
  public double[] numbers(String name) {
    return numbers(args.get(name));
  }

  /** An argument's value as doubles: a number is a list of one, null stays null. */
  static double[] numbers(Object v) {
    if (v instanceof Number n) {
      return new double[] {n.doubleValue()};
    }
    if (v instanceof List<?> l) {
      double[] r = new double[l.size()];
      for (int i = 0; i < r.length; i++) {
        r[i] = ((Number) l.get(i)).doubleValue();
      }
      return r;
    }
    return null;
  }

  /** The JSON recorded in the artifact: kind, arguments, steps and where they run, file hash. */
  public String toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("kind", kind);
    o.add("args", GSON.toJsonTree(args));
    o.add("graph", GSON.toJsonTree(graphSteps));
    o.add("host", GSON.toJsonTree(hostSteps));
    if (fileSha256 != null) {
      o.addProperty("sha256", fileSha256);
    }
    return GSON.toJson(o);
  }

  /**
   * The codec a metadata entry of an artifact records, or null when {@code key} is not a codec's
   * key ({@link #metadataKey}).
   *
   * @throws IllegalArgumentException for a codec key whose value is malformed
   */
  public static DataCodec fromMetadata(String key, String value) {
    boolean input = key.startsWith("cmod.input.") && key.endsWith(".from");
    boolean output = key.startsWith("cmod.output.") && key.endsWith(".to");
    if (!input && !output || key.length() <= (input ? 16 : 15)) {
      return null;
    }
    String port = key.substring(input ? 11 : 12, key.length() - (input ? 5 : 3));
    return fromJson(port, input, value);
  }

  /**
   * Reads back what {@link #toJson} wrote (from an artifact's metadata); integers stay {@code
   * Long}, other numbers {@code Double}. Throws {@link IllegalArgumentException} on malformed text.
   */
  public static DataCodec fromJson(String port, boolean input, String json) {
    try {
      JsonObject o = JsonParser.parseString(json).getAsJsonObject();
      Map<String, Object> args = new LinkedHashMap<>();
      for (Map.Entry<String, JsonElement> e : o.getAsJsonObject("args").entrySet()) {
        args.put(e.getKey(), plain(e.getValue()));
      }
      return new DataCodec(
          port,
          input,
          o.get("kind").getAsString(),
          args,
          strings(o.get("graph")),
          strings(o.get("host")),
          o.has("sha256") ? o.get("sha256").getAsString() : null);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("malformed codec metadata for '" + port + "': " + e);
    }
  }

  private static List<String> strings(JsonElement e) {
    List<String> r = new ArrayList<>();
    if (e != null && e.isJsonArray()) {
      e.getAsJsonArray().forEach(x -> r.add(x.getAsString()));
    }
    return List.copyOf(r);
  }

  private static Object plain(JsonElement e) {
    if (e.isJsonArray()) {
      List<Object> l = new ArrayList<>();
      e.getAsJsonArray().forEach(x -> l.add(plain(x)));
      return l;
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return p.getAsBoolean();
    }
    if (p.isString()) {
      return p.getAsString();
    }
    String t = p.getAsString();
    return t.contains(".") || t.contains("e") || t.contains("E")
        ? (Object) p.getAsDouble()
        : (Object) p.getAsLong();
  }
}
