package dev.cmod.ir.op;

import dev.cmod.ir.graph.Op;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The table of op definitions, one per {@link Op}, gathered from the family classes. Building it
 * fails when an op has no definition or two, so a new {@code Op} constant cannot be forgotten.
 */
public final class OpDefs {
  private static final Map<Op, OpDef> TABLE = build();

  private OpDefs() {}

  /** The definition of {@code op}. */
  public static OpDef of(Op op) {
    return TABLE.get(op);
  }

  /** Every definition, in {@link Op} order. */
  public static List<OpDef> all() {
    return Collections.unmodifiableList(new ArrayList<>(TABLE.values()));
  }

  private static Map<Op, OpDef> build() {
    Map<Op, OpDef> t = new EnumMap<>(Op.class);
    List<List<OpDef>> families =
        List.of(
            LeafOps.defs(),
            ElementwiseOps.defs(),
            ShapeOps.defs(),
            ReductionOps.defs(),
            NormalizationOps.defs(),
            AttentionOps.defs(),
            WindowOps.defs(),
            IndexingOps.defs(),
            RoutingOps.defs(),
            OpaqueOps.defs());
    for (List<OpDef> family : families) {
      for (OpDef d : family) {
        if (t.put(d.op(), d) != null) {
          throw new IllegalStateException(d.op() + " is defined twice");
        }
      }
    }
    for (Op op : Op.values()) {
      if (!t.containsKey(op)) {
        throw new IllegalStateException(op + " has no definition");
      }
    }
    return t;
  }
}
