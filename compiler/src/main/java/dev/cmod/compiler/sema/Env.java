package dev.cmod.compiler.sema;

import dev.cmod.ir.type.DType;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** A lexical scope: names to values, with a parent. */
public final class Env {
  private final Env parent;
  private final Map<String, Val> vars = new HashMap<>();

  public Env(Env parent) {
    this.parent = parent;
  }

  /**
   * The environment of builtin names: dtypes and the init namespace (functions are resolved by
   * name).
   */
  static Env builtins() {
    Env e = new Env(null);
    for (DType d : DType.values()) {
      e.define(d.text, new Val.DTypeV(d));
    }
    e.define("init", new Val.InitNamespaceV());
    return e;
  }

  public Val lookup(String name) {
    for (Env e = this; e != null; e = e.parent) {
      Val v = e.vars.get(name);
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  public boolean definesLocally(String name) {
    return vars.containsKey(name);
  }

  public void define(String name, Val v) {
    vars.put(name, v);
  }

  /** The names defined in this scope only. */
  public Set<String> visibleNamesLocal() {
    return new TreeSet<>(vars.keySet());
  }

  /** Every visible name, for "did you mean" suggestions. */
  public Set<String> visibleNames() {
    Set<String> out = new TreeSet<>();
    for (Env e = this; e != null; e = e.parent) {
      out.addAll(e.vars.keySet());
    }
    return out;
  }
}
