package dev.cmod.ir.op;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.OnnxRegion;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.util.List;
import java.util.Locale;

/**
 * One typed attribute of an op: its name, its kind and its default, written once. Every reader
 * (inference, kernels, the compiler's builtin table) goes through {@link #get} so that a default
 * cannot drift between them. An attribute without a default is required, unless it is {@link
 * #optional()} (then absence has a meaning of its own, such as "the plain window geometry").
 * Internal attributes are set by the compiler or the importer and are not parameters of the builtin
 * the language exposes for the op.
 *
 * @param <T> the Java type of the value as {@link Attrs} stores it
 */
public final class AttrSpec<T> {
  /** The kinds of values an attribute holds (see {@link Attrs}). */
  public enum Kind {
    INT,
    REAL,
    BOOL,
    TEXT,
    INTS,
    DIM,
    DIMS,
    DTYPE,
    TENSOR,
    REGION
  }

  private final String name;
  private final Kind kind;
  private final T dflt;
  private final boolean optional;
  private final boolean internal;

  private AttrSpec(String name, Kind kind, T dflt, boolean optional, boolean internal) {
    this.name = name;
    this.kind = kind;
    this.dflt = dflt;
    this.optional = optional;
    this.internal = internal;
  }

  public static AttrSpec<Long> integer(String name) {
    return new AttrSpec<>(name, Kind.INT, null, false, false);
  }

  public static AttrSpec<Long> integer(String name, long dflt) {
    return new AttrSpec<>(name, Kind.INT, dflt, false, false);
  }

  public static AttrSpec<Double> real(String name, double dflt) {
    return new AttrSpec<>(name, Kind.REAL, dflt, false, false);
  }

  public static AttrSpec<Boolean> bool(String name, boolean dflt) {
    return new AttrSpec<>(name, Kind.BOOL, dflt, false, false);
  }

  public static AttrSpec<String> text(String name) {
    return new AttrSpec<>(name, Kind.TEXT, null, false, false);
  }

  public static AttrSpec<String> text(String name, String dflt) {
    return new AttrSpec<>(name, Kind.TEXT, dflt, false, false);
  }

  public static AttrSpec<long[]> ints(String name) {
    return new AttrSpec<>(name, Kind.INTS, null, false, false);
  }

  public static AttrSpec<Dim> dim(String name) {
    return new AttrSpec<>(name, Kind.DIM, null, false, false);
  }

  public static AttrSpec<List<Dim>> dims(String name) {
    return new AttrSpec<>(name, Kind.DIMS, null, false, false);
  }

  public static AttrSpec<DType> dtype(String name) {
    return new AttrSpec<>(name, Kind.DTYPE, null, false, false);
  }

  public static AttrSpec<Tensor> tensor(String name) {
    return new AttrSpec<>(name, Kind.TENSOR, null, false, false);
  }

  /** An opaque ONNX region ({@link OnnxRegion}), always set by the importer. */
  public static AttrSpec<OnnxRegion> region(String name) {
    return new AttrSpec<>(name, Kind.REGION, null, false, true);
  }

  /** The same attribute, set only by the compiler or the importer (not a builtin parameter). */
  public AttrSpec<T> internal() {
    return new AttrSpec<>(name, kind, dflt, optional, true);
  }

  /** The same attribute, allowed to be absent without a default ({@link #get} then fails). */
  public AttrSpec<T> optional() {
    return new AttrSpec<>(name, kind, dflt, true, internal);
  }

  public String name() {
    return name;
  }

  public Kind kind() {
    return kind;
  }

  /** The default, or null when the attribute has none. */
  public T defaultValue() {
    return dflt;
  }

  public boolean isRequired() {
    return dflt == null && !optional;
  }

  public boolean isInternal() {
    return internal;
  }

  /** The node's value, or the default when the node has none. */
  @SuppressWarnings("unchecked")
  public T get(Attrs a) {
    if (!a.has(name)) {
      if (dflt == null) {
        throw new IllegalStateException("missing attribute '" + name + "'");
      }
      return dflt;
    }
    Object v = a.asMap().get(name);
    return (T) (kind == Kind.REAL ? (Object) ((Number) v).doubleValue() : v);
  }

  /** An integer attribute's value as an int. */
  public int getInt(Attrs a) {
    return Math.toIntExact(((Number) get(a)).longValue());
  }

  /**
   * An axis attribute: the node's value as stored (non-negative), or the default counted from the
   * end of a tensor of {@code rank} axes when the node has none (-1: the last axis).
   */
  public int axis(Attrs a, int rank) {
    int v = getInt(a);
    return a.has(name) || v >= 0 ? v : v + rank;
  }

  /**
   * The default as the language writes it in a builtin's signature ("-1", "1e-5", "false", "none");
   * null when there is none.
   */
  public String defaultText() {
    if (dflt == null) {
      return null;
    }
    if (dflt instanceof Double d) {
      String t = Double.toString(d);
      int e = t.indexOf('E');
      if (e < 0) {
        return t;
      }
      String m = t.substring(0, e);
      return (m.endsWith(".0") ? m.substring(0, m.length() - 2) : m) + "e" + t.substring(e + 1);
    }
    return dflt.toString();
  }

  @Override
  public String toString() {
    String d = defaultText();
    return name + ": " + kind.name().toLowerCase(Locale.ROOT) + (d == null ? "" : " = " + d);
  }
}
