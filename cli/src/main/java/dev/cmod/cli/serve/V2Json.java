package dev.cmod.cli.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON side of the v2 protocol: an infer request body becomes tensors checked against the
 * model's {@link ModelSignature} (datatype, rank, fixed dims, one size per symbol), and tensors
 * become a response body. Every problem of a request is a {@link V2Error} that names the input and
 * what was expected, so a client never sees a stack trace.
 */
public final class V2Json {
  private V2Json() {}

  /**
   * A checked infer request.
   *
   * @param id the client's request id, echoed in the response (null when none was given)
   * @param inputs a tensor for every model input, in the model's order
   * @param outputs the outputs asked for, in the order asked, or every output when none was named
   * @param adapter the {@code adapter} request parameter (null when none was given); which adapter
   *     a run uses is the runner's business
   * @param rows the size of the batch axis (1 when the model has none)
   */
  public record InferRequest(
      String id, Map<String, Tensor> inputs, List<String> outputs, String adapter, long rows) {}

  /**
   * Reads and checks an infer request body for a model with signature {@code sig}. The body is read
   * as a stream: the {@code data} of an input whose name and datatype come before it (as clients
   * write them) goes straight into a primitive array; anything else is read as a tree.
   */
  public static InferRequest parseInfer(byte[] body, ModelSignature sig) {
    JsonObject root = new JsonObject();
    List<JsonObject> ins = new ArrayList<>();
    List<Leaves> streamed = new ArrayList<>();
    try (JsonReader r =
        new JsonReader(
            new InputStreamReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8))) {
      r.setStrictness(Strictness.STRICT);
      if (r.peek() != JsonToken.BEGIN_OBJECT) {
        JsonParser.parseReader(r); // a syntax error is reported as such
        throw bad("the request body must be a JSON object");
      }
      r.beginObject();
      while (r.hasNext()) {
        String key = r.nextName();
        if (key.equals("inputs") && r.peek() == JsonToken.BEGIN_ARRAY) {
          ins.clear();
          streamed.clear();
          r.beginArray();
          while (r.hasNext()) {
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
              JsonParser.parseReader(r);
              throw bad("each of \"inputs\" must be a JSON object");
            }
            readInput(r, sig, ins, streamed);
          }
          r.endArray();
        } else {
          root.add(key, JsonParser.parseReader(r));
        }
      }
      r.endObject();
      if (r.peek() != JsonToken.END_DOCUMENT) {
        throw bad("the request body is not valid JSON: text after the end of the object");
      }
    } catch (JsonParseException | IOException | IllegalStateException e) {
      throw notJson(e);
    }
    String id = optionalString(root, "id", "the request's id");
    String adapter = null;
    JsonElement params = root.get("parameters");
    if (params != null && !params.isJsonNull()) {
      JsonObject p = object(params, "the request's parameters");
      adapter = optionalString(p, "adapter", "the parameter 'adapter'");
    }
    if (ins.isEmpty()) {
      throw bad("the request needs \"inputs\": an array with one object per model input");
    }
    Map<String, Tensor> given = new HashMap<>();
    Map<String, Long> bound = new HashMap<>();
    Map<String, String> boundBy = new HashMap<>();
    for (int i = 0; i < ins.size(); i++) {
      JsonObject in = ins.get(i);
      String name = requiredString(in, "name", "an input");
      ModelSignature.Port port = sig.input(name);
      if (port == null) {
        throw bad("the model has no input '" + clip(name) + "'; its inputs are " + names(sig));
      }
      if (given.containsKey(name)) {
        throw bad("input '" + clip(name) + "' is given twice");
      }
      given.put(name, tensor(in, streamed.get(i), port, bound, boundBy));
    }
    Map<String, Tensor> feed = new LinkedHashMap<>();
    for (ModelSignature.Port p : sig.inputs()) {
      Tensor t = given.get(p.name());
      if (t == null) {
        throw bad(
            "input '"
                + p.name()
                + "' ("
                + V2Types.name(p.dtype())
                + " "
                + Arrays.toString(p.shape())
                + ") is missing");
      }
      feed.put(p.name(), t);
    }
    List<String> outputs = requestedOutputs(root, sig);
    long rows = sig.batchable() ? bound.get(sig.batchSymbol()) : 1;
    return new InferRequest(id, feed, outputs, adapter, rows);
  }

  /**
   * Reads one input object: its members but {@code data} as a tree, and {@code data} into a
   * primitive array when the name and datatype before it say which (null otherwise: then {@code
   * data} is in the tree too).
   */
  private static void readInput(
      JsonReader r, ModelSignature sig, List<JsonObject> ins, List<Leaves> streamed)
      throws IOException {
    JsonObject head = new JsonObject();
    Leaves leaves = null;
    r.beginObject();
    while (r.hasNext()) {
      String key = r.nextName();
      ModelSignature.Port port =
          key.equals("data") ? sig.input(stringOrNull(head.get("name"))) : null;
      if (port != null
          && V2Types.name(port.dtype()).equals(stringOrNull(head.get("datatype")))
          && r.peek() == JsonToken.BEGIN_ARRAY) {
        leaves = Leaves.read(r, port.dtype(), "input '" + port.name() + "' data");
        head.remove("data");
      } else {
        head.add(key, JsonParser.parseReader(r));
        if (key.equals("data")) {
          leaves = null;
        }
      }
    }
    r.endObject();
    ins.add(head);
    streamed.add(leaves);
  }

  private static String stringOrNull(JsonElement e) {
    return e instanceof JsonPrimitive p && p.isString() ? p.getAsString() : null;
  }

  private static List<String> requestedOutputs(JsonObject root, ModelSignature sig) {
    List<String> out = new ArrayList<>();
    JsonElement outs = root.get("outputs");
    if (outs == null || outs.isJsonNull()) {
      sig.outputs().forEach(p -> out.add(p.name()));
      return out;
    }
    if (!outs.isJsonArray()) {
      throw bad("\"outputs\" must be an array of objects with a \"name\"");
    }
    for (JsonElement e : outs.getAsJsonArray()) {
      String name = requiredString(object(e, "each of \"outputs\""), "name", "an output");
      if (sig.output(name) == null) {
        List<String> all = new ArrayList<>();
        sig.outputs().forEach(p -> all.add(p.name()));
        throw bad(
            "the model has no output '"
                + clip(name)
                + "'; its outputs are "
                + clip(all.toString()));
      }
      if (out.contains(name)) {
        throw bad("output '" + clip(name) + "' is asked for twice");
      }
      out.add(name);
    }
    if (out.isEmpty()) {
      sig.outputs().forEach(p -> out.add(p.name()));
    }
    return out;
  }

  private static Tensor tensor(
      JsonObject in,
      Leaves streamed,
      ModelSignature.Port port,
      Map<String, Long> bound,
      Map<String, String> by) {
    String name = port.name();
    String want = V2Types.name(port.dtype());
    String dt = requiredString(in, "datatype", "input '" + name + "'");
    if (!dt.equals(want)) {
      throw bad(
          "input '"
              + name
              + "' is "
              + want
              + ", the request gives "
              + clip(dt)
              + "; the server does not convert datatypes");
    }
    JsonElement params = in.get("parameters");
    if (params != null
        && params.isJsonObject()
        && params.getAsJsonObject().has("binary_data_size")) {
      throw bad("input '" + name + "': binary tensor data is not supported; send \"data\" as JSON");
    }
    long[] shape = shape(in.get("shape"), name);
    long[] dims = port.dims();
    if (shape.length != dims.length) {
      throw bad(
          "input '"
              + name
              + "' has rank "
              + dims.length
              + " (shape "
              + Arrays.toString(dims)
              + "), the request gives shape "
              + Arrays.toString(shape));
    }
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] >= 0 && dims[i] != shape[i]) {
        throw bad(
            "input '"
                + name
                + "' must have shape "
                + Arrays.toString(dims)
                + ": axis "
                + i
                + " is "
                + shape[i]
                + ", expected "
                + dims[i]);
      }
      String sym = port.symbols()[i];
      if (sym != null) {
        Long prev = bound.putIfAbsent(sym, shape[i]);
        if (prev != null && prev != shape[i]) {
          throw bad(
              "input '"
                  + name
                  + "' axis "
                  + i
                  + " is "
                  + shape[i]
                  + " but "
                  + sym
                  + " is "
                  + prev
                  + " (from "
                  + by.get(sym)
                  + "); one symbolic dim takes one size");
        }
        by.putIfAbsent(sym, "input '" + name + "' axis " + i);
      }
    }
    long numel;
    try {
      numel = Tensor.numel(shape);
    } catch (ArithmeticException e) {
      throw bad("input '" + name + "': shape " + Arrays.toString(shape) + " is too large");
    }
    Leaves leaves = streamed;
    if (leaves == null) {
      JsonElement data = in.get("data");
      if (data == null || !data.isJsonArray()) {
        throw bad("input '" + name + "' needs \"data\": an array (flat or nested) of its values");
      }
      leaves = Leaves.of(data.getAsJsonArray(), port.dtype(), "input '" + name + "' data", numel);
    }
    if (leaves.n != numel) {
      throw bad(
          "input '"
              + name
              + "' has shape "
              + Arrays.toString(shape)
              + " ("
              + numel
              + " values), the data holds "
              + (leaves.n > numel ? "more" : Integer.toString(leaves.n)));
    }
    return leaves.tensor(shape);
  }

  private static long[] shape(JsonElement e, String name) {
    if (e == null || !e.isJsonArray()) {
      throw bad("input '" + name + "' needs \"shape\": an array of sizes");
    }
    JsonArray a = e.getAsJsonArray();
    long[] shape = new long[a.size()];
    for (int i = 0; i < shape.length; i++) {
      if (!(a.get(i) instanceof JsonPrimitive p) || !p.isNumber()) {
        throw bad("input '" + name + "': shape " + clip(a.toString()) + " holds a non-number");
      }
      long v = integral(p.getAsNumber().toString(), DType.I64, "input '" + name + "' shape");
      if (v < 0) {
        throw bad("input '" + name + "': shape " + clip(a.toString()) + " has a negative size");
      }
      shape[i] = v;
    }
    return shape;
  }

  /**
   * The values of one input's {@code data} in row-major order, in the primitive array its datatype
   * needs; a nested array is read without recursion.
   */
  private static final class Leaves {
    final DType dt;
    final String what;
    float[] f;
    double[] d;
    long[] l;
    int n;

    Leaves(DType dt, String what) {
      this.dt = dt;
      this.what = what;
      if (dt == DType.F64) {
        d = new double[16];
      } else if (dt.isFloat()) {
        f = new float[16];
      } else {
        l = new long[16];
      }
    }

    /** Reads the array at the reader's position. */
    static Leaves read(JsonReader r, DType dt, String what) throws IOException {
      Leaves v = new Leaves(dt, what);
      int depth = 0;
      do {
        switch (r.peek()) {
          case BEGIN_ARRAY -> {
            r.beginArray();
            depth++;
          }
          case END_ARRAY -> {
            r.endArray();
            depth--;
          }
          case NUMBER -> v.number(r.nextString());
          case BOOLEAN -> v.bool(r.nextBoolean());
          case STRING -> v.refuse("\"" + r.nextString() + "\"");
          default -> v.refuse(JsonParser.parseReader(r).toString());
        }
      } while (depth > 0);
      return v;
    }

    /** The leaves of a tree; stops early past {@code limit} values. */
    static Leaves of(JsonArray data, DType dt, String what, long limit) {
      Leaves v = new Leaves(dt, what);
      Deque<java.util.Iterator<JsonElement>> stack = new ArrayDeque<>();
      stack.push(data.iterator());
      while (!stack.isEmpty() && v.n <= limit) {
        java.util.Iterator<JsonElement> it = stack.peek();
        if (!it.hasNext()) {
          stack.pop();
          continue;
        }
        JsonElement e = it.next();
        if (e.isJsonArray()) {
          stack.push(e.getAsJsonArray().iterator());
        } else if (e instanceof JsonPrimitive p && p.isNumber()) {
          v.number(p.getAsNumber().toString());
        } else if (e instanceof JsonPrimitive p && p.isBoolean()) {
          v.bool(p.getAsBoolean());
        } else {
          v.refuse(e.toString());
        }
      }
      return v;
    }

    private void grow() {
      int cap = Math.max(16, n * 2);
      if (f != null && n == f.length) {
        f = Arrays.copyOf(f, cap);
      } else if (d != null && n == d.length) {
        d = Arrays.copyOf(d, cap);
      } else if (l != null && n == l.length) {
        l = Arrays.copyOf(l, cap);
      }
    }

    void number(String text) {
      if (dt == DType.BOOL) {
        refuse(text);
      }
      grow();
      if (d != null) {
        d[n++] = Double.parseDouble(text);
      } else if (f != null) {
        f[n++] = Float.parseFloat(text);
      } else {
        l[n++] = integral(text, dt, what);
      }
    }

    void bool(boolean b) {
      if (dt != DType.BOOL) {
        refuse(Boolean.toString(b));
      }
      grow();
      l[n++] = b ? 1 : 0;
    }

    void refuse(String shown) {
      throw bad(
          what
              + " holds "
              + clip(shown)
              + (dt == DType.BOOL ? ", not true or false" : ", not a number"));
    }

    Tensor tensor(long[] shape) {
      if (d != null) {
        return Tensor.ofDoubles(shape, Arrays.copyOf(d, n));
      }
      if (f != null) {
        return Tensor.ofFloats(dt, shape, f.length == n ? f : Arrays.copyOf(f, n));
      }
      return Tensor.ofLongs(dt, shape, l.length == n ? l : Arrays.copyOf(l, n));
    }
  }

  private static final BigInteger U64_END = BigInteger.ONE.shiftLeft(64);

  /** An integer of type {@code dt}; a fraction or a value outside the type's range is refused. */
  private static long integral(String text, DType dt, String what) {
    BigInteger v;
    try {
      long fast = Long.parseLong(text);
      v = BigInteger.valueOf(fast);
    } catch (NumberFormatException notPlain) {
      try {
        v = new BigDecimal(text).toBigIntegerExact();
      } catch (ArithmeticException | NumberFormatException ex) {
        throw bad(what + " holds " + clip(text) + ", not an integer");
      }
    }
    boolean fits;
    if (dt == DType.U64) {
      fits = v.signum() >= 0 && v.compareTo(U64_END) < 0;
    } else {
      fits = v.bitLength() < 64 && dt.wrap(v.longValue()) == v.longValue();
    }
    if (!fits) {
      throw bad(what + " holds " + clip(text) + ", outside the range of " + V2Types.name(dt));
    }
    return v.longValue();
  }

  /** The response body of an infer request: the outputs asked for, with flat data. */
  public static byte[] inferResponse(
      String model, String id, Map<String, Tensor> results, List<String> outputs) {
    StringWriter sw = new StringWriter();
    try (JsonWriter w = new JsonWriter(sw)) {
      // NaN and infinities have no JSON spelling: they are written as the bare words
      w.setStrictness(Strictness.LENIENT);
      w.beginObject().name("model_name").value(model);
      if (id != null) {
        w.name("id").value(id);
      }
      w.name("outputs").beginArray();
      for (String name : outputs) {
        Tensor t = results.get(name);
        w.beginObject().name("name").value(name);
        w.name("datatype").value(V2Types.name(t.dtype()));
        w.name("shape").beginArray();
        for (long d : t.shape()) {
          w.value(d);
        }
        w.endArray().name("data").beginArray();
        writeData(w, t);
        w.endArray().endObject();
      }
      w.endArray().endObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sw.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void writeData(JsonWriter w, Tensor t) throws IOException {
    DType dt = t.dtype();
    if (dt == DType.F64) {
      for (double v : t.doubles()) {
        w.value(v);
      }
    } else if (dt.isFloat()) {
      for (float v : t.floats()) {
        w.value(v);
      }
    } else if (dt == DType.BOOL) {
      for (long v : t.longs()) {
        w.value(v != 0);
      }
    } else if (dt == DType.U64) {
      for (long v : t.longs()) {
        w.jsonValue(Long.toUnsignedString(v));
      }
    } else {
      for (long v : t.longs()) {
        w.value(v);
      }
    }
  }

  /** The model metadata body: name, platform, and each input and output with datatype and shape. */
  public static byte[] modelMetadata(String model, ModelSignature sig) {
    JsonObject o = new JsonObject();
    o.addProperty("name", model);
    JsonArray versions = new JsonArray();
    versions.add("1");
    o.add("versions", versions);
    o.addProperty("platform", "onnxruntime_onnx");
    o.add("inputs", ports(sig.inputs()));
    o.add("outputs", ports(sig.outputs()));
    return o.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static JsonArray ports(List<ModelSignature.Port> ports) {
    JsonArray a = new JsonArray();
    for (ModelSignature.Port p : ports) {
      JsonObject o = new JsonObject();
      o.addProperty("name", p.name());
      o.addProperty("datatype", V2Types.name(p.dtype()));
      JsonArray shape = new JsonArray();
      for (long d : p.shape()) {
        shape.add(d);
      }
      o.add("shape", shape);
      a.add(o);
    }
    return a;
  }

  /** A body of one object with the given properties (strings or booleans), in order. */
  public static byte[] object(Object... keysAndValues) {
    JsonObject o = new JsonObject();
    for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
      String key = (String) keysAndValues[i];
      if (keysAndValues[i + 1] instanceof Boolean b) {
        o.addProperty(key, b);
      } else {
        o.addProperty(key, String.valueOf(keysAndValues[i + 1]));
      }
    }
    return o.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The v2 error body. */
  public static byte[] error(String message) {
    return object("error", message);
  }

  private static V2Error notJson(Exception e) {
    Throwable at = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause() : e;
    String why = at.getMessage() == null ? "" : at.getMessage();
    // gson's message, without the exception's class name or its link to gson's guide
    why = why.replaceFirst("^[\\w.$]+(Exception|Error): ", "").split("\n")[0];
    return bad("the request body is not valid JSON" + (why.isEmpty() ? "" : ": " + clip(why)));
  }

  private static JsonObject object(JsonElement e, String what) {
    if (e == null || !e.isJsonObject()) {
      throw bad(what + " must be a JSON object");
    }
    return e.getAsJsonObject();
  }

  private static String requiredString(JsonObject o, String key, String what) {
    String s = optionalString(o, key, what + "'s \"" + key + "\"");
    if (s == null) {
      throw bad(what + " needs \"" + key + "\" (a string)");
    }
    return s;
  }

  private static String optionalString(JsonObject o, String key, String what) {
    JsonElement e = o.get(key);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (!(e instanceof JsonPrimitive p) || !p.isString()) {
      throw bad(what + " must be a string");
    }
    return p.getAsString();
  }

  private static String names(ModelSignature sig) {
    List<String> all = new ArrayList<>();
    sig.inputs().forEach(p -> all.add(p.name()));
    return clip(all.toString());
  }

  private static String clip(String s) {
    return Excerpt.of(s, 200);
  }

  private static V2Error bad(String message) {
    return new V2Error(400, message);
  }
}
