package dev.cmod.ir.op;

import java.util.List;

/**
 * Routing: ops that send each token to some of several experts under a gate. None is an IR op yet
 * (routing is expanded into dense compute during elaboration); a structured route op's definition
 * goes here, and {@link OpDefs} already reads this family.
 */
public final class RoutingOps {
  private RoutingOps() {}

  static List<OpDef> defs() {
    return List.of();
  }
}
