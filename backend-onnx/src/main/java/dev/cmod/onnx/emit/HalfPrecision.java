package dev.cmod.onnx.emit;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.IndexingOps;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.onnx.Target;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The backend's half-precision step ({@code --precision f16}): a copy of the graph in which f32
 * arithmetic is done in f16, while the operations whose accuracy rests on a wide accumulator stay
 * f32 islands, with casts where a value crosses between the two. It runs before the fusion step,
 * which then sees the graph it emits; the compiler's passes never see it, because the precision is
 * a choice of how to emit one IR, like the target.
 *
 * <p>Each operator node gets a mode:
 *
 * <ul>
 *   <li>f32 (an island): the norms, softmax and log-softmax, the summing reductions (sum, mean,
 *       prod, cumsum, scatter-add), cosine, an imported model's opaque region (its types are
 *       recorded), and every computation that reads only parameters and constants (the model's
 *       weight preparation, such as a batch norm's statistics or an unmerged LoRA product). A norm
 *       that the target emits as one operator computing its statistics in f32 itself (ONNX
 *       Runtime's SkipLayerNormalization and SkipSimplifiedLayerNormalization, opset 23's
 *       RMSNormalization with its stash type) takes f16 instead, so that the fusion still applies;
 *   <li>follow: operators that only move, select or compare values (reshape, transpose, slices,
 *       gathers, max/min, argmax, topk, casts) compute in the precision their operands arrive in,
 *       so an island's result is not rounded on its way to the next island or to an output;
 *   <li>f16: everything else (matmuls, convolutions, elementwise arithmetic, attention, whose
 *       lowering itself computes the scores' masking and softmax in f32, so its float mask is left
 *       f32).
 * </ul>
 *
 * <p>Only f32 values change: an f32 parameter or constant is stored as f16 when any f16 node reads
 * it (finite values beyond f16's range clamped to ±65504, so a -1e9 mask constant stays finite),
 * else it stays f32; graph inputs and outputs keep their declared types, with a cast after an input
 * and before an output. Operator nodes keep their ids, so the artifact's names match {@code cmod
 * graph}; the casts take new ids after them.
 */
final class HalfPrecision {
  private HalfPrecision() {}

  /** The largest finite f16 value. */
  private static final float HALF_MAX = 65504f;

  /** The fusion rules whose operator computes a norm's statistics in f32 from f16 operands. */
  private static final Set<String> F32_STATISTICS =
      Set.of(
          "SKIP_LAYER_NORM_BIAS",
          "SKIP_LAYER_NORM",
          "SKIP_RMS_NORM_BIAS",
          "SKIP_RMS_NORM",
          "RMS_NORM_23");

  /** Operators that stay f32. */
  private static final Set<Op> ISLANDS =
      EnumSet.of(
          Op.LAYER_NORM,
          Op.RMS_NORM,
          Op.SOFTMAX,
          Op.LOG_SOFTMAX,
          Op.REDUCE_SUM,
          Op.REDUCE_MEAN,
          Op.REDUCE_PROD,
          Op.CUMSUM,
          Op.SCATTER_ADD,
          Op.COSINE,
          Op.ONNX_REGION);

  /** Operators that compute in the precision of their operands (exact in either). */
  private static final Set<Op> FOLLOW =
      EnumSet.of(
          Op.RESHAPE,
          Op.TRANSPOSE,
          Op.CONCAT,
          Op.SPLIT,
          Op.SLICE,
          Op.UNSQUEEZE,
          Op.SQUEEZE,
          Op.BROADCAST,
          Op.TAKE,
          Op.GATHER_ELEMENTS,
          Op.SCATTER_ELEMENTS,
          Op.REDUCE_MAX,
          Op.REDUCE_MIN,
          Op.ARGMAX,
          Op.TOPK,
          Op.PATCHIFY,
          Op.MAX_POOL2D,
          Op.CAST);

  private enum Mode {
    HALF,
    FULL,
    FOLLOW
  }

  /**
   * The converted graph and what the conversion did.
   *
   * @param graph the half-precision graph
   * @param halfOps operator nodes computing in f16
   * @param kept operator nodes kept f32, by op name (sorted)
   * @param casts casts inserted
   * @param halfParams parameters and constants stored as f16
   * @param fullParams f32 parameters and constants left f32 (only f32 nodes read them)
   */
  record Result(
      Graph graph,
      int halfOps,
      Map<String, Integer> kept,
      int casts,
      int halfParams,
      int fullParams) {

    /** One line for {@code cmod explain}. */
    String summary() {
      List<String> parts = new ArrayList<>();
      kept.forEach((op, n) -> parts.add(op + " x" + n));
      return "precision f16: "
          + halfOps
          + " ops in f16, kept in f32: "
          + (parts.isEmpty() ? "none" : String.join(", ", parts))
          + "; "
          + casts
          + " casts; parameters and constants: "
          + halfParams
          + " f16, "
          + fullParams
          + " f32";
    }
  }

  /**
   * The half-precision copy of {@code g} for target {@code t}. The norms left f16 are those the
   * target fuses in {@code g}; should the fusion step not take one of them in the copy, the copy is
   * made again with that norm an f32 island, so that no norm is composed in f16.
   */
  static Result convert(Graph g, Target t) {
    Set<Integer> fused = fusedNorms(g, t);
    while (true) {
      Result r = new HalfPrecision.Run(g, fused).run();
      Set<Integer> still = fusedNorms(r.graph(), t);
      if (still.containsAll(fused)) {
        return r;
      }
      fused.retainAll(still);
    }
  }

  /** The ids of the norms that a rule computing f32 statistics fuses in {@code g}. */
  private static Set<Integer> fusedNorms(Graph g, Target t) {
    Set<Integer> ids = new HashSet<>();
    for (Map.Entry<Node, Legalizer.Claim> c : Legalizer.plan(g, t).roots().entrySet()) {
      if (F32_STATISTICS.contains(c.getValue().rule().name())) {
        ids.add(c.getKey().id());
      }
    }
    return ids;
  }

  private static final class Run {
    private final Graph g;
    private final Graph out;
    private final Set<Integer> fusedNorms;
    private final Set<Node> weightsOnly = new HashSet<>();
    private final Map<Value, Value> map = new HashMap<>();
    private final Map<Value, Value> toHalf = new HashMap<>();
    private final Map<Value, Value> toFull = new HashMap<>();
    private final Map<String, Integer> kept = new TreeMap<>();
    private int halfOps;
    private int casts;
    private int halfParams;
    private int fullParams;

    Run(Graph g, Set<Integer> fusedNorms) {
      this.g = g;
      this.out = new Graph(g.name());
      this.fusedNorms = fusedNorms;
    }

    Result run() {
      List<Node> nodes = g.nodes();
      int top = 0;
      for (Node n : nodes) {
        top = Math.max(top, n.id() + 1);
        if (n.op() == Op.PARAM || n.op() == Op.CONST) {
          weightsOnly.add(n);
        } else if (!n.op().isLeaf() && n.op() != Op.ONNX_REGION && !g.operands(n).isEmpty()) {
          boolean all = true;
          for (Value v : g.operands(n)) {
            all &= weightsOnly.contains(v.node());
          }
          if (all) {
            weightsOnly.add(n);
          }
        }
      }
      for (int i = 0; i < top; i++) {
        out.reserveId();
      }
      for (Node n : nodes) {
        switch (n.op()) {
          case INPUT ->
              map.put(n.out(), out.addInput(n.attrs().getString("name"), n.type(), n.loc()));
          case PARAM, CONST -> leaf(n);
          default -> operator(n);
        }
      }
      g.symbols().forEach(out::putSymbol);
      g.metadata().forEach((k, v) -> out.metadata().put(k, v));
      out.metadata().put("cmod.precision", "f16");
      for (Map.Entry<String, Value> o : g.outputs().entrySet()) {
        Value v = map.get(o.getValue());
        out.setOutput(o.getKey(), isF32(o.getValue()) ? as(v, DType.F32) : v);
      }
      return new Result(out, halfOps, kept, casts, halfParams, fullParams);
    }

    private static boolean isF32(Value v) {
      return v.type().dtype() == DType.F32;
    }

    /** An f32 parameter or constant becomes f16 when a node that computes in f16 reads it. */
    private void leaf(Node n) {
      Tensor value = n.attrs().getTensor("value");
      boolean half = false;
      if (value.dtype() == DType.F32) {
        for (Node user : g.users(n)) {
          half |= mode(user) != Mode.FULL;
        }
        if (half) {
          value = halved(value);
          halfParams++;
        } else {
          fullParams++;
        }
      }
      Value v =
          n.op() == Op.PARAM
              ? out.addParam(
                  n.attrs().getString("path"),
                  value,
                  n.attrs().getBool("trainable", false),
                  n.loc())
              : out.addConst(value, n.loc());
      map.put(n.out(), v);
    }

    private static Tensor halved(Tensor t) {
      float[] f = t.floats();
      float[] h = null;
      for (int i = 0; i < f.length; i++) {
        if (Float.isFinite(f[i]) && Math.abs(f[i]) > HALF_MAX) {
          if (h == null) {
            h = f.clone();
          }
          h[i] = Math.copySign(HALF_MAX, f[i]);
        }
      }
      return Tensor.ofFloats(DType.F16, t.shape(), h == null ? f : h);
    }

    /** The mode of an operator node, before "follow" is resolved from its operands. */
    private Mode mode(Node n) {
      if (ISLANDS.contains(n.op())) {
        return fusedNorms.contains(n.id()) ? Mode.HALF : Mode.FULL;
      }
      if (FOLLOW.contains(n.op())) {
        return Mode.FOLLOW;
      }
      return weightsOnly.contains(n) ? Mode.FULL : Mode.HALF;
    }

    private void operator(Node n) {
      List<Value> operands = g.operands(n);
      Mode m = mode(n);
      if (m == Mode.FOLLOW) {
        Set<DType> seen = EnumSet.noneOf(DType.class);
        for (Value v : operands) {
          if (isF32(v)) {
            seen.add(map.get(v).type().dtype());
          }
        }
        m = seen.size() == 1 && seen.contains(DType.F32) ? Mode.FULL : Mode.HALF;
      }
      DType want = m == Mode.FULL ? DType.F32 : DType.F16;
      List<Value> in = new ArrayList<>();
      boolean floats = false;
      for (int i = 0; i < operands.size(); i++) {
        Value v = operands.get(i);
        Value nv = map.get(v);
        // an attention's float mask stays f32: the lowering adds it to the f32 scores
        if (isF32(v) && !(n.op() == Op.ATTENTION && i == 3)) {
          floats = true;
          nv = as(nv, want);
        }
        in.add(nv);
      }
      Attrs attrs = n.attrs();
      if (n.op() == Op.CAST && IndexingOps.TO.get(attrs) == DType.F32) {
        attrs = attrs.with("to", DType.F16);
        floats = true;
      }
      if (floats || isF32(n.out())) {
        if (m == Mode.FULL) {
          kept.merge(
              weightsOnly.contains(n) ? "weight preparation" : n.op().text(), 1, Integer::sum);
        } else {
          halfOps++;
        }
      }
      Node copy = out.addWithId(n.id(), n.op(), attrs, in, n.loc());
      for (int i = 0; i < n.outputTypes().size(); i++) {
        map.put(n.out(i), copy.out(i));
      }
    }

    /** {@code v} as {@code dt} (f16 or f32): itself, or one cast per value and type. */
    private Value as(Value v, DType dt) {
      if (v.type().dtype() == dt || !v.type().dtype().isFloat()) {
        return v;
      }
      Map<Value, Value> cache = dt == DType.F16 ? toHalf : toFull;
      Value c = cache.get(v);
      if (c == null) {
        c = out.add(Op.CAST, Attrs.of("to", dt), List.of(v), v.node().loc()).out();
        cache.put(v, c);
        casts++;
      }
      return c;
    }
  }
}
