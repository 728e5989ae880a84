package dev.cmod.ir.graph;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.cmod.ir.type.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a base artifact compiled with run-time adapters accepts: the adapter parameters (name,
 * element type, shape) a run may replace, or, for stacked adapters, the adapters compiled into it
 * and the name of the input that picks one per example. It is recorded in the artifact's metadata
 * ({@link #METADATA_KEY}, JSON) so that whoever builds or loads an adapter file for the artifact —
 * the compiler, {@code cmod run}, a server — checks it against the same interface and refuses a
 * wrong name, shape or type with a message instead of a failure inside ONNX Runtime.
 *
 * @param mode {@link #RUNTIME} or {@link #STACKED}
 * @param params the overridable parameters, in graph order (runtime mode; the stacked factors, with
 *     their leading adapter axis, in stacked mode)
 * @param adapters stacked mode: the adapters' names, index i being {@code adapter_index == i}
 * @param indexInput stacked mode: the name of the i64[batch] input that picks each example's
 *     adapter; null in runtime mode
 */
public record AdapterInterface(
    String mode, List<Param> params, List<String> adapters, String indexInput) {
  /** The metadata_props key that holds the interface. */
  public static final String METADATA_KEY = "cmod.adapters";

  /** One base artifact whose adapter parameters are graph inputs with their defaults. */
  public static final String RUNTIME = "runtime";

  /** Several adapters stacked in the artifact, one picked per example by an index input. */
  public static final String STACKED = "runtime-stacked";

  /** One adapter parameter: its name (the parameter's path), element type and shape. */
  public record Param(String name, DType dtype, long[] shape) {
    public Param {
      shape = shape.clone();
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    /** The type as the language writes it, {@code f32[8, 2]}. */
    public String describe() {
      StringBuilder sb = new StringBuilder(dtype.text).append('[');
      for (int i = 0; i < shape.length; i++) {
        sb.append(i > 0 ? ", " : "").append(shape[i]);
      }
      return sb.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Param p
          && p.name.equals(name)
          && p.dtype == dtype
          && Arrays.equals(p.shape, shape);
    }

    @Override
    public int hashCode() {
      return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
  }

  public AdapterInterface {
    params = List.copyOf(params);
    adapters = List.copyOf(adapters);
  }

  /** The parameter called {@code name}, or null. */
  public Param find(String name) {
    for (Param p : params) {
      if (p.name.equals(name)) {
        return p;
      }
    }
    return null;
  }

  /**
   * Why a tensor called {@code name} of this type and shape does not fit the interface (a sentence
   * naming what was expected), or null when it fits.
   */
  public String mismatch(String name, DType dtype, long[] shape) {
    Param p = find(name);
    if (p == null) {
      return "'" + name + "' is not an adapter parameter of this model";
    }
    Param got = new Param(name, dtype, shape);
    if (p.dtype != dtype || !Arrays.equals(p.shape, shape)) {
      return "'" + name + "' is " + got.describe() + ", the model's parameter is " + p.describe();
    }
    return null;
  }

  /** The closest parameter name to {@code name} (for a hint), or null when there is none. */
  public String closest(String name) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (Param p : params) {
      int d = dev.cmod.ir.EditDistance.of(name, p.name);
      if (d < bestD) {
        bestD = d;
        best = p.name;
      }
    }
    return best;
  }

  /** The interface as the JSON text stored under {@link #METADATA_KEY}. */
  public String toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("mode", mode);
    JsonArray ps = new JsonArray();
    for (Param p : params) {
      JsonObject j = new JsonObject();
      j.addProperty("name", p.name);
      j.addProperty("dtype", p.dtype.text);
      JsonArray dims = new JsonArray();
      for (long d : p.shape) {
        dims.add(d);
      }
      j.add("shape", dims);
      ps.add(j);
    }
    o.add("params", ps);
    if (!adapters.isEmpty()) {
      JsonArray names = new JsonArray();
      adapters.forEach(names::add);
      o.add("adapters", names);
    }
    if (indexInput != null) {
      o.addProperty("index", indexInput);
    }
    return o.toString();
  }

  /**
   * Reads what {@link #toJson()} wrote.
   *
   * @throws IllegalArgumentException when the text is not such an interface
   */
  public static AdapterInterface parse(String json) {
    try {
      JsonObject o = JsonParser.parseString(json).getAsJsonObject();
      String mode = o.get("mode").getAsString();
      if (!mode.equals(RUNTIME) && !mode.equals(STACKED)) {
        throw new IllegalArgumentException("unknown adapter mode '" + mode + "'");
      }
      List<Param> params = new ArrayList<>();
      for (JsonElement e : o.getAsJsonArray("params")) {
        JsonObject j = e.getAsJsonObject();
        DType dt = DType.fromText(j.get("dtype").getAsString());
        if (dt == null) {
          throw new IllegalArgumentException("unknown dtype " + j.get("dtype"));
        }
        JsonArray dims = j.getAsJsonArray("shape");
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = dims.get(i).getAsLong();
        }
        params.add(new Param(j.get("name").getAsString(), dt, shape));
      }
      List<String> adapters = new ArrayList<>();
      if (o.has("adapters")) {
        for (JsonElement e : o.getAsJsonArray("adapters")) {
          adapters.add(e.getAsString());
        }
      }
      String index = o.has("index") ? o.get("index").getAsString() : null;
      return new AdapterInterface(mode, params, adapters, index);
    } catch (RuntimeException e) {
      if (e instanceof IllegalArgumentException iae && !(e instanceof NumberFormatException)) {
        throw iae;
      }
      throw new IllegalArgumentException("not an adapter interface: " + e.getMessage(), e);
    }
  }
}
