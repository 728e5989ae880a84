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
  Boolean trainable; // null: inherit

  Instance(Val.ModuleDef def, String path, Env hyperEnv) {
    this.def = def;
    this.path = path;
    this.hyperEnv = hyperEnv;
  }

  public String path() {
    return path;
  }
}
