package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.Expr;
import dev.cmod.ir.graph.Value;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where evaluation happens: the instance path, the scope, inline names and the parameters of this
 * body.
 */
final class Body {
  final String path;
  final Env env;
  final IdentityHashMap<Expr, String> inlineNames;
  final Map<String, Value> params;
  final Map<String, Instance> children;
  final boolean trainable;

  /**
   * Parameter compositions active while this body runs (an adapted instance and everything inside
   * it).
   */
  List<Adaptation> hooks = List.of();

  /** Parameter arithmetic whose parameters this body creates, or null. */
  ArithSpec arith;

  int routeCount;
  int fuseCount;

  /** A body with no instance around it: for compile-time values (consts, dims, defaults). */
  static Body bare(Env env) {
    return new Body("", env, new IdentityHashMap<>(), new LinkedHashMap<>(), true);
  }

  Body(
      String path,
      Env env,
      IdentityHashMap<Expr, String> inlineNames,
      Map<String, Value> params,
      boolean trainable) {
    this(path, env, inlineNames, params, new LinkedHashMap<>(), trainable);
  }

  Body(
      String path,
      Env env,
      IdentityHashMap<Expr, String> inlineNames,
      Map<String, Value> params,
      Map<String, Instance> children,
      boolean trainable) {
    this.path = path;
    this.env = env;
    this.inlineNames = inlineNames;
    this.params = params;
    this.children = children;
    this.trainable = trainable;
  }

  String child(String name) {
    return path.isEmpty() ? name : path + "." + name;
  }
}
