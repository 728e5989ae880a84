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

  Instance(Val.ModuleDef def, String path, Env hyperEnv) {
    this.def = def;
    this.path = path;
    this.hyperEnv = hyperEnv;
  }

  public String path() {
    return path;
  }
}
