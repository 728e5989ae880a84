package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.Op;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The import of every ONNX operator the importer supports, looked up by ONNX op type. Each family
 * registers its entries from its own class, so supporting an ONNX operator is one entry in its
 * family; an entry also states the IR operators its translation may add, which a test checks
 * against the translations and against the emitter's lowering table.
 */
final class ImportTable {
  private ImportTable() {}

  /** Translates the current ONNX node of {@code cx} into IR nodes. */
  @FunctionalInterface
  interface OpImport {
    void apply(ImportContext cx);
  }

  /**
   * One ONNX operator's import.
   *
   * @param opType the ONNX op type of the default domain
   * @param raises the IR operators (leaves aside) the translation may add
   */
  record Entry(String opType, Set<Op> raises, OpImport handler) {}

  /** Where a family registers its entries; a second entry for one op type is refused. */
  @FunctionalInterface
  interface Registrar {
    void add(String opType, Set<Op> raises, OpImport handler);
  }

  private static final Map<String, Entry> TABLE = build();

  private static Map<String, Entry> build() {
    Map<String, Entry> t = new TreeMap<>();
    Registrar r =
        (opType, raises, handler) -> {
          if (t.putIfAbsent(opType, new Entry(opType, Set.copyOf(raises), handler)) != null) {
            throw new IllegalStateException("a second import entry for ONNX operator " + opType);
          }
        };
    ElementwiseImports.register(r);
    AttentionImports.register(r);
    ShapeImports.register(r);
    IndexingImports.register(r);
    ReductionImports.register(r);
    NormalizationImports.register(r);
    WindowImports.register(r);
    return Collections.unmodifiableMap(t);
  }

  /**
   * The entry for ONNX op type {@code opType}, or null when the importer does not raise it (then
   * the node is carried opaque, as control flow always is: the IR does not represent subgraphs).
   */
  static Entry forType(String opType) {
    return TABLE.get(opType);
  }

  /** Every entry, by op type. */
  static Map<String, Entry> entries() {
    return TABLE;
  }
}
