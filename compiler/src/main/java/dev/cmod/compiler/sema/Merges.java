package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The merge builtins of parameter arithmetic, {@code ties(base, [a, b], density = 0.2)} and {@code
 * dare(base, [a, b], p = 0.9, seed = 1)}: like {@code base + Σ cᵢ·bᵢ} they make a new instance
 * whose parameters are computed at compile time, but the task vectors are first sparsified and (for
 * TIES) resolved by sign, per parameter tensor, as PEFT's and mergekit's merges do. Plain task
 * arithmetic with a scale is the existing {@code base + λ * (a + b)}.
 */
final class Merges {
  private Merges() {}

  /** Names the evaluator routes here (unless a binding shadows them). */
  static final Set<String> NAMES = Set.of("ties", "dare");

  /** The merge builtins as editors show them: name to the call's signature. */
  static java.util.Map<String, String> signatures() {
    return java.util.Map.of(
        "ties", "ties(base, [a, b], density, weights = [1, ...], scale = 1)",
        "dare", "dare(base, [a, b], p, seed = 0, weights = [1, ...], scale = 1)");
  }

  /**
   * How the task vectors are combined.
   *
   * @param kind "ties" or "dare"
   * @param density TIES: the fraction of each task vector's entries kept, by magnitude
   * @param p DARE: the probability that an entry is dropped
   * @param seed DARE: the seed of the drop masks
   * @param scale λ in {@code θ0 + λ·merged}
   * @param load for kind "load" ({@code with weights(from = ...)}): where the values come from
   */
  record Method(String kind, double density, double p, long seed, double scale, HfLoad load) {}

  /** {@code ties(...)} / {@code dare(...)} as an arithmetic value, checked. */
  static Val call(String kind, Args args, String bindName, ElabContext el) {
    List<String> allowed =
        kind.equals("ties")
            ? List.of("density", "weights", "scale")
            : List.of("p", "seed", "weights", "scale");
    for (Map.Entry<String, Val> e : args.named().entrySet()) {
      if (!allowed.contains(e.getKey())) {
        return bad(
            args.namedSpans().get(e.getKey()),
            kind + " has no parameter '" + e.getKey() + "'",
            kind,
            el);
      }
    }
    if (args.pos().size() != 2) {
      return bad(args.span(), kind + " takes a base instance and a list of bundles", kind, el);
    }
    Val base = args.pos().get(0);
    if (!(base instanceof InstanceV || base instanceof StackV || base instanceof ImportedV)) {
      return bad(
          args.posSpans().get(0),
          "the base of "
              + kind
              + " is a module instance, a repeat stack or an imported model, not "
              + Val.describe(base),
          kind,
          el);
    }
    List<Val> items = args.pos().get(1) instanceof ListV l ? l.items() : List.of(args.pos().get(1));
    List<BundleV> bundles = new ArrayList<>();
    for (Val v : items) {
      if (!(v instanceof BundleV b)) {
        return bad(
            args.posSpans().get(1),
            kind + " merges weight bundles (import weights ... as b), got " + Val.describe(v),
            kind,
            el);
      }
      bundles.add(b);
    }
    if (bundles.isEmpty()) {
      return bad(args.posSpans().get(1), kind + " needs at least one bundle", kind, el);
    }
    List<Double> weights = new ArrayList<>();
    if (args.named().get("weights") instanceof ListV wl) {
      for (Val w : wl.items()) {
        weights.add(el.number(w, args.namedSpans().get("weights"), "merge weight"));
      }
    } else if (args.named().containsKey("weights")) {
      return bad(args.namedSpans().get("weights"), "weights is a list of numbers", kind, el);
    }
    if (weights.isEmpty()) {
      bundles.forEach(b -> weights.add(1.0));
    } else if (weights.size() != bundles.size()) {
      return bad(
          args.namedSpans().get("weights"),
          weights.size() + " weights for " + bundles.size() + " bundles",
          kind,
          el);
    }
    double scale = number(args, "scale", 1, el);
    double density = 1;
    double p = 0;
    long seed = 0;
    if (kind.equals("ties")) {
      if (!args.named().containsKey("density")) {
        return bad(
            args.span(), "ties needs a density: ties(base, [a, b], density = 0.2)", kind, el);
      }
      density = number(args, "density", 1, el);
      if (!(density > 0 && density <= 1)) {
        return bad(
            args.namedSpans().get("density"),
            "density is the fraction of entries kept, in (0, 1]; got " + density,
            kind,
            el);
      }
    } else {
      if (!args.named().containsKey("p")) {
        return bad(
            args.span(), "dare needs a drop probability: dare(base, [a], p = 0.9)", kind, el);
      }
      p = number(args, "p", 0, el);
      if (!(p >= 0 && p < 1)) {
        return bad(
            args.namedSpans().get("p"),
            "p is the probability of dropping an entry, in [0, 1); got " + p,
            kind,
            el);
      }
      if (args.named().containsKey("seed")) {
        seed = el.intValue(args.named().get("seed"), args.namedSpans().get("seed"), "dare seed");
      }
    }
    List<Term> terms = new ArrayList<>();
    for (int i = 0; i < bundles.size(); i++) {
      terms.add(new Term(weights.get(i), bundles.get(i), args.posSpans().get(1)));
    }
    return new ArithV(
        base, terms, bindName, new Val[1], new Method(kind, density, p, seed, scale, null));
  }

  private static double number(Args args, String k, double dflt, ElabContext el) {
    Val v = args.named().get(k);
    return v == null ? dflt : el.number(v, args.namedSpans().get(k), k);
  }

  private static Val bad(Span span, String message, String kind, ElabContext el) {
    return el.fail(
        DiagnosticCode.MERGE_ARGS,
        span,
        message,
        kind.equals("ties")
            ? "ties(base, [a, b], density = 0.2, weights = [1, 1], scale = 1)"
            : "dare(base, [a, b], p = 0.9, seed = 0, weights = [1, 1], scale = 1)");
  }

  /**
   * θ0 + λ·merge(τ₁..τₙ) for one parameter; {@code deltas[i]} is bundle i's task vector for it, or
   * null where the bundle has none (all zeros). {@code rel} names the parameter in DARE's masks.
   */
  static float[] merge(
      Method m, float[] base, List<double[]> deltas, List<Double> weights, String rel) {
    int n = base.length;
    double[] merged = new double[n];
    if (m.kind().equals("dare")) {
      for (int i = 0; i < deltas.size(); i++) {
        double[] d = deltas.get(i);
        if (d == null) {
          continue;
        }
        long key = streamKey(m.seed(), rel, i);
        for (int j = 0; j < n; j++) {
          if (uniform(key, j) >= m.p()) {
            merged[j] += weights.get(i) * (d[j] / (1 - m.p()));
          }
        }
      }
    } else {
      List<double[]> trimmed = new ArrayList<>();
      for (double[] d : deltas) {
        trimmed.add(d == null ? new double[n] : trim(d, m.density()));
      }
      for (int j = 0; j < n; j++) {
        double mass = 0;
        for (double[] t : trimmed) {
          mass += t[j];
        }
        double sign = mass >= 0 ? 1 : -1;
        double sum = 0;
        int count = 0;
        for (int i = 0; i < trimmed.size(); i++) {
          double t = trimmed.get(i)[j];
          if (Math.signum(t) == sign) {
            sum += weights.get(i) * t;
            count++;
          }
        }
        merged[j] = sum / Math.max(count, 1);
      }
    }
    float[] out = new float[n];
    for (int j = 0; j < n; j++) {
      out[j] = (float) (base[j] + m.scale() * merged[j]);
    }
    return out;
  }

  /**
   * The {@code floor(density·n)} entries of largest magnitude (equal magnitudes: the lower index
   * first); the others become zero.
   */
  static double[] trim(double[] d, double density) {
    int k = (int) (density * d.length);
    Integer[] order = new Integer[d.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -Math.abs(d[i])));
    double[] out = new double[d.length];
    for (int r = 0; r < k; r++) {
      out[order[r]] = d[order[r]];
    }
    return out;
  }

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  /** SplitMix64's finalizer. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * The key of the drop mask of bundle {@code i} on parameter {@code rel}: mix(mix(mix(seed) ^
   * fnv1a64(rel)) ^ i), so a mask depends only on the seed, the parameter and the bundle.
   */
  static long streamKey(long seed, String rel, int i) {
    long h = 0xCBF29CE484222325L;
    for (byte b : rel.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xFF)) * 0x100000001B3L;
    }
    return mix(mix(mix(seed) ^ h) ^ i);
  }

  /** Entry j's uniform draw in [0, 1): the top 53 bits of mix(key + (j + 1)·γ). */
  static double uniform(long key, int j) {
    return (mix(key + (j + 1L) * GOLDEN) >>> 11) * 0x1.0p-53;
  }
}
