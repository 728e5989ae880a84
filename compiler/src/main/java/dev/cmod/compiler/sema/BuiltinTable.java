package dev.cmod.compiler.sema;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.AttrSpec;
import dev.cmod.ir.op.OpDef;
import dev.cmod.ir.op.OpDefs;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The builtin functions of the language and their signatures (parameter names, "=" marking a
 * default written as the source text of a literal), in the order editors list them. A builtin that
 * is exactly one IR op takes its parameters from the op's definition: its operands, then the
 * attributes the language may set, with their defaults, so that a default is written once (in
 * {@code dev.cmod.ir.op}). The others are written out here, each with why it is not one op's
 * signature. The compiler binds calls with this table; the language server shows it.
 */
public final class BuiltinTable {
  private static final Map<String, List<String>> PARAMS = new LinkedHashMap<>();
  private static final Map<String, Op> OPS = new LinkedHashMap<>();

  static {
    for (String u :
        List.of(
            "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "silu", "erf", "floor", "ceil",
            "round", "sign", "sin", "cos")) {
      fromOp(u, Op.valueOf(u.toUpperCase(Locale.ROOT)));
    }
    fromOp("gelu", Op.GELU);
    fromOp("pow", Op.POW);
    fromOp("maximum", Op.MAXIMUM);
    fromOp("minimum", Op.MINIMUM);
    fromOp("where", Op.WHERE);
    fromOp("matmul", Op.MATMUL);
    // the language's shape may hold one -1, the size inferred from the others
    written("reshape", "x", "shape");
    fromOp("transpose", Op.TRANSPOSE);
    // a reshape merging the axes from `axis` on
    written("flatten", "x", "axis=1");
    fromOp("concat", Op.CONCAT);
    fromOp("split", Op.SPLIT);
    fromOp("slice", Op.SLICE);
    fromOp("unsqueeze", Op.UNSQUEEZE);
    fromOp("squeeze", Op.SQUEEZE);
    fromOp("broadcast", Op.BROADCAST);
    // on a tensor, one reduction per axis (every axis by default); on a list, an elementwise fold
    for (String r : List.of("sum", "mean", "max", "min")) {
      written(r, "x", "axis=all", "keep=false");
    }
    fromOp("argmax", Op.ARGMAX);
    fromOp("softmax", Op.SOFTMAX);
    fromOp("log_softmax", Op.LOG_SOFTMAX);
    fromOp("layer_norm", Op.LAYER_NORM);
    fromOp("rms_norm", Op.RMS_NORM);
    fromOp("attention", Op.ATTENTION);
    fromOp("conv1d", Op.CONV1D);
    fromOp("conv2d", Op.CONV2D);
    // the window is called k, and the stride defaults to it
    written("avg_pool2d", "x", "k", "stride=k");
    written("max_pool2d", "x", "k", "stride=k");
    fromOp("upsample", Op.UPSAMPLE);
    // the patch size is called p
    written("patchify", "x", "p");
    fromOp("take", Op.TAKE);
    fromOp("one_hot", Op.ONE_HOT);
    fromOp("cosine", Op.COSINE);
    fromOp("topk", Op.TOPK);
    // the element type is called dtype and may be given as a name
    written("cast", "x", "dtype");
    // compositions of several ops, compile-time values, or whole-model synthesis
    written("weighted", "xs", "w");
    written("tokens", "x");
    written("fuse", "x", "modules");
    written("auto", "inputs...");
  }

  private BuiltinTable() {}

  private static void fromOp(String name, Op op) {
    OpDef d = OpDefs.of(op);
    List<String> ps = new ArrayList<>();
    for (OpDef.Operand o : d.operands()) {
      ps.add(o.optional() ? o.name() + "=none" : o.name());
    }
    for (AttrSpec<?> a : d.attrs()) {
      if (a.isInternal()) {
        continue;
      }
      String dflt = a.defaultText();
      ps.add(dflt != null ? a.name() + "=" + dflt : a.isRequired() ? a.name() : a.name() + "=none");
    }
    PARAMS.put(name, List.copyOf(ps));
    OPS.put(name, op);
  }

  private static void written(String name, String... params) {
    PARAMS.put(name, List.of(params));
  }

  public static boolean isBuiltin(String name) {
    return PARAMS.containsKey(name);
  }

  /** The builtin names, in table order. */
  /**
   * The merge methods of parameter arithmetic ({@code ties}, {@code dare}), which are not builtins
   * of this table (they make instances, not tensors): name to signature, for editors.
   */
  public static java.util.Map<String, String> mergeSignatures() {
    return Merges.signatures();
  }

  public static Set<String> names() {
    return Collections.unmodifiableSet(PARAMS.keySet());
  }

  /** The parameters of {@code name} ("x", "axis=-1"), or null when it is not a builtin. */
  public static List<String> params(String name) {
    return PARAMS.get(name);
  }

  /** The op a builtin is exactly, or null when it is written out here. */
  public static Op op(String name) {
    return OPS.get(name);
  }

  /** The signature as written in calls: "softmax(x, axis = -1)"; null for a non-builtin. */
  public static String signature(String name) {
    List<String> ps = PARAMS.get(name);
    if (ps == null) {
      return null;
    }
    StringBuilder sb = new StringBuilder(name).append('(');
    for (int i = 0; i < ps.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(ps.get(i).replace("=", " = "));
    }
    return sb.append(')').toString();
  }
}
