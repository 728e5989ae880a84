package dev.cmod.compiler.sema;

import dev.cmod.ir.graph.Value;
import java.util.LinkedHashMap;
import java.util.Map;

/** A module instance: its path, hyperparameter values, and the parameters made on first use. */
public final class Instance {
  final Val.ModuleDef def;
  final String path;
  final Env hyperEnv;
  final Map<String, Value> params = new LinkedHashMap<>();

  /** Instances created inside this one's body, by path: re-applying the body reuses them. */
  final Map<String, Instance> children = new LinkedHashMap<>();

  Boolean trainable; // null: inherit
  ArithSpec arith; // set for the result of parameter arithmetic

  /** ControlNet-style branches added to this instance's result (section 7). */
  final java.util.List<Control> controls = new java.util.ArrayList<>();

  /** Whether the instance has been applied (conditions must come before). */
  boolean applied;

  /** {@code condition <this> on source via control(strength)}. */
  record Control(
      dev.cmod.ir.graph.Value source, double strength, dev.cmod.compiler.diag.Span span) {}

  Instance(Val.ModuleDef def, String path, Env hyperEnv) {
    this.def = def;
    this.path = path;
    this.hyperEnv = hyperEnv;
  }

  public String path() {
    return path;
  }
}
