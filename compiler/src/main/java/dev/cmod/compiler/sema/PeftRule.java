package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A LoRA or IA³ composition whose factors come from a PEFT checkpoint ({@code base with lora(from =
 * style)}): the {@link KeyMap} finds the checkpoint module of each layer the base reads, and the
 * layer computes what PEFT computes with that module. LoRA: {@code W + s·(Aᵀ @ Bᵀ)} with PEFT's
 * scale s, since PEFT's {@code B @ A} is {@code [out, in]} and cmod's weight {@code [in, out]}.
 * IA³: PEFT scales a layer's output, bias included ({@code W·l}, {@code bias·l}), or for a
 * feed-forward module its input ({@code l·W}, rows), where cmod's own IA³ scales only the weight's
 * columns.
 */
final class PeftRule {
  private final PeftCheckpoint ckpt;
  private final KeyMap map;
  private final String name;
  private final Span span;
  private final Map<String, Value[]> factors = new HashMap<>();

  PeftRule(PeftCheckpoint ckpt, KeyMap map, String name, Span span) {
    this.ckpt = ckpt;
    this.map = map;
    this.name = name;
    this.span = span;
  }

  /**
   * The parameter {@code w} at {@code path} ({@code rel} below the base) as the adapter sees it. A
   * weight is {@code [in, out]} as cmod stores it, or {@code [out, in]} where an imported model
   * reads it only through a transpose (PyTorch's Linear exported as Gemm with transB): then the
   * factors keep PEFT's layout, {@code W + s·(B @ A)}.
   */
  Value apply(Adaptation a, Value w, String path, String rel, ElabContext el, Span at) {
    int dot = rel.lastIndexOf('.');
    String leaf = rel.substring(dot + 1);
    TensorType t = w.type();
    boolean weight = leaf.equals("weight") && t.rank() == 2 && t.dtype().isFloat();
    boolean bias = leaf.equals("bias") && t.rank() == 1 && ckpt.kind().equals("ia3");
    if (dot < 0 || !(weight || bias) || !t.dim(0).isKnown() || !t.dim(t.rank() - 1).isKnown()) {
      return w;
    }
    String weightPath = path.substring(0, path.length() - leaf.length()) + "weight";
    Node wn = weight ? w.node() : findParam(weightPath, el);
    boolean outIn = wn != null && storedOutIn(wn, el);
    long in = weight ? t.dim(outIn ? 1 : 0).value() : -1;
    long out = weight ? t.dim(outIn ? 0 : 1).value() : t.dim(0).value();
    String owner = rel.substring(0, dot);
    String module = map.resolve(owner, m -> fits(ckpt.modules().get(m), m, in, out), el);
    if (module == null) {
      return w;
    }
    Map<String, Tensor> ts = ckpt.modules().get(module);
    DType dt = t.dtype();
    if (ckpt.kind().equals("lora")) {
      Tensor fa = ts.get("A");
      Tensor fb = ts.get("B");
      if (!fits(ts, module, in, out)) {
        shapeError(module, owner, "lora_A " + dims(fa) + " and lora_B " + dims(fb), t, outIn, el);
      }
      Value[] f =
          factors.computeIfAbsent(
              owner,
              o -> {
                String[] names = a.factorNames(weightPath, el);
                return new Value[] {
                  el.params()
                      .createParam(names[0], outIn ? as(fb, dt) : transpose(fa, dt), true, span),
                  el.params()
                      .createParam(names[1], outIn ? as(fa, dt) : transpose(fb, dt), true, span)
                };
              });
      Value ab = el.node(Op.MATMUL, Attrs.NONE, at, f[0], f[1]);
      Value s =
          el.constant(Tensor.ofFloats(dt, new long[0], new float[] {(float) ckpt.scale()}), at);
      return el.node(Op.ADD, Attrs.NONE, at, w, el.node(Op.MUL, Attrs.NONE, at, ab, s));
    }
    Tensor l = ts.get("l");
    boolean ff = ckpt.feedforward().contains(module);
    if (bias && ff) {
      return w; // PEFT scales a feed-forward layer's input: the bias is added unscaled
    }
    if (weight && !fits(ts, module, in, out) || bias && l.size() != out) {
      shapeError(module, owner, "ia3_l " + dims(l), t, outIn, el);
    }
    long n = ff ? in : out;
    // the factor scales the weight's input rows (ff) or output columns, in its stored layout
    long[] fshape =
        outIn
            ? (ff ? new long[] {1, n} : new long[] {n, 1})
            : (ff ? new long[] {n, 1} : new long[] {n});
    Value[] f =
        factors.computeIfAbsent(
            owner,
            o ->
                new Value[] {
                  el.params()
                      .createParam(
                          a.factorNames(weightPath, el)[0],
                          Tensor.ofFloats(dt, fshape, floats(l)),
                          true,
                          span)
                });
    Value factor = f[0];
    if (bias && factor.type().rank() == 2) {
      factor =
          el.node(
              Op.RESHAPE,
              Attrs.of("dims", java.util.List.of(dev.cmod.ir.type.Dim.of(out))),
              at,
              factor);
    }
    return el.node(Op.MUL, Attrs.NONE, at, w, factor);
  }

  /**
   * Whether module {@code m}'s tensors fit a layer of {@code in} inputs (-1: unknown) and {@code
   * out} outputs.
   */
  private boolean fits(Map<String, Tensor> ts, String m, long in, long out) {
    if (ckpt.kind().equals("lora")) {
      return ts.get("A").shape()[1] == in && ts.get("B").shape()[0] == out;
    }
    return ts.get("l").size() == (ckpt.feedforward().contains(m) ? in : out);
  }

  /** Whether an imported weight is read only through a 2-D transpose (stored [out, in]). */
  private static boolean storedOutIn(Node n, ElabContext el) {
    java.util.List<Node> users = el.graph().users(n);
    return n.op() == Op.PARAM
        && !users.isEmpty()
        && users.stream()
            .allMatch(
                u ->
                    u.op() == Op.TRANSPOSE
                        && Arrays.equals(u.attrs().getLongs("perm"), new long[] {1, 0}));
  }

  private static Node findParam(String path, ElabContext el) {
    for (Node n : el.graph().nodes()) {
      if (n.op() == Op.PARAM && n.attrs().getString("path").equals(path)) {
        return n;
      }
    }
    return null;
  }

  private static Tensor as(Tensor t, DType dt) {
    return Tensor.ofFloats(dt, t.shape(), floats(t));
  }

  private void shapeError(
      String module, String owner, String what, TensorType t, boolean outIn, ElabContext el) {
    el.fail(
        DiagnosticCode.KEY_SHAPE,
        span,
        "module '"
            + module
            + "' of "
            + name
            + " has "
            + what
            + ", which do not fit '"
            + owner
            + "', "
            + t
            + (outIn ? " ([out, in])" : " ([in, out])"),
        "PyTorch's Linear.weight is [out, in]: lora_A is [r, in], lora_B [out, r], ia3_l [out, 1]"
            + " or [1, in]; map the module to the layer it was trained for");
  }

  /** After the first application: every module of the checkpoint must have set a layer. */
  void checkAllClaimed(ElabContext el) {
    map.checkAllClaimed("adapter " + name + "'s", el);
  }

  private static String dims(Tensor t) {
    return Arrays.toString(t.shape());
  }

  private static float[] floats(Tensor t) {
    float[] f = new float[t.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) t.get(i);
    }
    return f;
  }

  /** The 2-D tensor's transpose, as {@code dt}. */
  static Tensor transpose(Tensor t, DType dt) {
    int rows = (int) t.shape()[0];
    int cols = (int) t.shape()[1];
    float[] f = new float[rows * cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        f[j * rows + i] = (float) t.get(i * cols + j);
      }
    }
    return Tensor.ofFloats(dt, new long[] {cols, rows}, f);
  }
}
