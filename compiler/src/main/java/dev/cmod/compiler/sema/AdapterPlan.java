package dev.cmod.compiler.sema;

import dev.cmod.ir.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How LoRA and IA³ factors are compiled ({@code --adapters}): merged into the weights they adapt
 * (the default, what -O2 does to any frozen computation on weights), kept as run-time inputs of one
 * base artifact so that an adapter file can replace them per run, or stacked — several adapters'
 * factors along a new leading axis, each example picking its own through an index input. The choice
 * is the compiler's because it decides which parameters the optimizer may fold.
 *
 * @param mode the layout
 * @param adapters stacked mode: the adapters, in index order (runtime mode: the adapter files to
 *     write, checked by their writer against the artifact's interface; the compiler does not read
 *     them)
 */
public record AdapterPlan(Mode mode, List<Adapter> adapters) {
  /** The layouts. */
  public enum Mode {
    /** Factors are parameters like any other; -O2 merges them into the adapted weights. */
    MERGED,
    /** Factors are graph inputs whose initializers are their defaults (one base artifact). */
    RUNTIME,
    /** Factors of every adapter stacked, picked per example by the input {@code adapter_index}. */
    STACKED
  }

  /**
   * One adapter: its name and its factors' values by parameter path (a key it does not hold keeps
   * the compiled value).
   *
   * @param source where the values came from, for messages
   */
  public record Adapter(String name, Map<String, Tensor> weights, String source) {
    public Adapter {
      weights = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(weights));
    }
  }

  /** The name of the stacked layout's index input (i64[batch]). */
  public static final String INDEX_INPUT = "adapter_index";

  /** Today's behaviour: factors merged at -O2. */
  public static final AdapterPlan MERGED_PLAN = new AdapterPlan(Mode.MERGED, List.of());

  public AdapterPlan {
    adapters = List.copyOf(adapters);
  }
}
