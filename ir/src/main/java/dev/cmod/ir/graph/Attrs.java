package dev.cmod.ir.graph;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Immutable, key-ordered node attributes. Values are Long, Double, Boolean, String, long[], Dim,
 * List&lt;Dim&gt;, DType, Tensor or OnnxRegion (rendered by its content digest). Axes are stored
 * normalized (non-negative).
 */
public final class Attrs {
  public static final Attrs NONE = new Attrs(new TreeMap<>());
  private final TreeMap<String, Object> map;

  private Attrs(TreeMap<String, Object> map) {
    this.map = map;
  }

  public static Attrs of(Object... kv) {
    TreeMap<String, Object> m = new TreeMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      Object v = kv[i + 1];
      if (v instanceof Integer n) {
        v = n.longValue();
      } else if (v instanceof Float x) {
        v = x.doubleValue();
      }
      m.put((String) kv[i], v);
    }
    return new Attrs(m);
  }

  public Attrs with(String key, Object value) {
    TreeMap<String, Object> m = new TreeMap<>(map);
    m.put(key, value instanceof Integer n ? (Object) n.longValue() : value);
    return new Attrs(m);
  }

  public Map<String, Object> asMap() {
    return Collections.unmodifiableMap(map);
  }

  public boolean has(String key) {
    return map.containsKey(key);
  }

  private Object need(String key) {
    Object v = map.get(key);
    if (v == null) {
      throw new IllegalStateException("missing attribute '" + key + "'");
    }
    return v;
  }

  public long getLong(String key) {
    return (Long) need(key);
  }

  public int getInt(String key) {
    return Math.toIntExact(getLong(key));
  }

  public double getDouble(String key) {
    return ((Number) need(key)).doubleValue();
  }

  public boolean getBool(String key, boolean dflt) {
    Object v = map.get(key);
    return v == null ? dflt : (Boolean) v;
  }

  public String getString(String key) {
    return (String) need(key);
  }

  public String getString(String key, String dflt) {
    Object v = map.get(key);
    return v == null ? dflt : (String) v;
  }

  public long[] getLongs(String key) {
    return (long[]) need(key);
  }

  public Dim getDim(String key) {
    return (Dim) need(key);
  }

  @SuppressWarnings("unchecked")
  public List<Dim> getDims(String key) {
    return (List<Dim>) need(key);
  }

  public DType getDType(String key) {
    return (DType) need(key);
  }

  public Tensor getTensor(String key) {
    return (Tensor) need(key);
  }

  /**
   * A deterministic text form, used by printers and structural digests (tensors by identity hash of
   * content).
   */
  public String render(boolean withTensorData) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Object> e : map.entrySet()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(e.getKey()).append('=');
      Object v = e.getValue();
      if (v instanceof long[] a) {
        sb.append(java.util.Arrays.toString(a));
      } else if (v instanceof Tensor t) {
        sb.append(
            withTensorData ? TensorDigest.of(t) : t.dtype() + java.util.Arrays.toString(t.shape()));
      } else if (v instanceof String s) {
        sb.append('"').append(s).append('"');
      } else {
        sb.append(v);
      }
    }
    return sb.toString();
  }
}
