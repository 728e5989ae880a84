package dev.cmod.onnx.emit;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.op.OpDefs;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The ONNX lowering of every IR operator (opset {@value dev.cmod.onnx.OnnxVersions#OPSET}; a
 * lowering whose form depends on the opset asks {@code LoweringContext.opset()}), looked up by
 * operator; where the target allows a fused operator, {@link Legalizer} chooses a rule of {@link
 * FusionRules} instead. Each family of operators registers its lowerings from its own class, so
 * adding an operator is adding one entry to its family; the operators without a lowering are listed
 * in {@link #notLowered()} with the reason, and a test proves that every operator is in one of the
 * two.
 */
public final class LoweringTable {
  private LoweringTable() {}

  /** Where a family registers its lowerings; a second lowering for one operator is refused. */
  @FunctionalInterface
  interface Registrar {
    void put(Op op, OpLowering lowering);
  }

  private static final Map<Op, String> NOT_LOWERED = notLoweredReasons();

  private static final Map<Op, OpLowering> TABLE = build();

  private static Map<Op, OpLowering> build() {
    EnumMap<Op, OpLowering> t = new EnumMap<>(Op.class);
    ElementwiseLowerings.register(registrar(t, Family.ELEMENTWISE));
    ShapeLowerings.register(registrar(t, Family.SHAPE));
    ReductionLowerings.register(registrar(t, Family.REDUCTION));
    NormalizationLowerings.register(registrar(t, Family.NORMALIZATION));
    AttentionLowerings.register(registrar(t, Family.ATTENTION));
    WindowLowerings.register(registrar(t, Family.WINDOW));
    IndexingLowerings.register(registrar(t, Family.INDEXING));
    return Collections.unmodifiableMap(t);
  }

  /**
   * A registrar for the lowerings of one family: it refuses a second lowering for an operator and
   * an operator that the op definitions ({@link OpDefs}) put in another family, so an operator is
   * found in the same family in {@code ir.op}, the interpreter's kernels and here.
   */
  private static Registrar registrar(EnumMap<Op, OpLowering> t, Family family) {
    return (op, lowering) -> {
      if (OpDefs.of(op).family() != family) {
        throw new IllegalStateException(
            "operator "
                + op
                + " is defined in family "
                + OpDefs.of(op).family()
                + ", lowered in "
                + family);
      }
      if (NOT_LOWERED.containsKey(op) || t.putIfAbsent(op, lowering) != null) {
        throw new IllegalStateException("a second ONNX lowering for operator " + op);
      }
    };
  }

  private static Map<Op, String> notLoweredReasons() {
    EnumMap<Op, String> m = new EnumMap<>(Op.class);
    m.put(Op.INPUT, "a leaf: the emitter declares it as a graph input");
    m.put(Op.PARAM, "a leaf: the emitter writes it as an initializer named by its path");
    m.put(Op.CONST, "a leaf: the emitter writes it as an initializer named const_<id>");
    m.put(
        Op.ROUTE,
        "structured routing: the compiler's sparse-routing (-O2) and lower-routing passes, first in every pipeline, expand it"
            + " into dense ops before the backend sees the graph");
    m.put(
        Op.ONNX_REGION,
        "an opaque region of an imported ONNX model: the emitter copies its nodes inline"
            + " (RegionInliner)");
    return Collections.unmodifiableMap(m);
  }

  /** Whether {@code op} has an ONNX lowering. */
  public static boolean lowers(Op op) {
    return TABLE.containsKey(op);
  }

  /** The operators that have no lowering, each with the reason (the emitter handles them). */
  public static Map<Op, String> notLowered() {
    return NOT_LOWERED;
  }

  /** The lowering of {@code op}; fails for an operator that has none. */
  static OpLowering forOp(Op op) {
    OpLowering l = TABLE.get(op);
    if (l == null) {
      throw new IllegalArgumentException("no ONNX lowering for operator '" + op.text() + "'");
    }
    return l;
  }
}
