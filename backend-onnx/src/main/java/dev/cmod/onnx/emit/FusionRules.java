package dev.cmod.onnx.emit;

import static dev.cmod.ir.rewrite.Pattern.any;
import static dev.cmod.ir.rewrite.Pattern.anyOf;
import static dev.cmod.ir.rewrite.Pattern.op;

import ai.onnx.proto.OnnxMl.AttributeProto;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.AttentionOps;
import dev.cmod.ir.op.NormalizationOps;
import dev.cmod.ir.op.ShapeOps;
import dev.cmod.ir.rewrite.Match;
import dev.cmod.ir.rewrite.Pattern;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.Target;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * The fusion rules of the backend, in the order {@link Legalizer} offers them to a node. Each names
 * the targets that may emit it; every fused operator here was run on ONNX Runtime 1.29 CPU (the
 * tests run each rule's fused form against the interpreter). Rules fuse only f32 values (the types
 * every fused kernel of ONNX Runtime's CPU provider takes).
 */
final class FusionRules {
  private FusionRules() {}

  private static final Set<Target> EVERY = EnumSet.allOf(Target.class);
  private static final Set<Target> ORT = EnumSet.of(Target.ORT);
  private static final Set<Target> OPSET20 = EnumSet.of(Target.ONNX20, Target.ONNX23);
  private static final Set<Target> OPSET23 = EnumSet.of(Target.ONNX23);

  /**
   * reshape(transpose(attention(heads(q), heads(k), heads(v)))) with heads(x) =
   * transpose(reshape(x, [b, s, h, d]), [0, 2, 1, 3]) and the inverse on the way out: the
   * split-heads attention of {@code std.nn.MultiHeadAttention}, one {@code com.microsoft}
   * MultiHeadAttention on the [b, s, h*d] projections (causal: {@code unidirectional}).
   */
  static final Fusion MULTI_HEAD_ATTENTION =
      new Fusion(
          "MULTI_HEAD_ATTENTION",
          ORT,
          op(Op.RESHAPE)
              .operands(
                  op(Op.TRANSPOSE)
                      .operands(
                          op(Op.ATTENTION).operands(heads("q"), heads("k"), heads("v")).as("att"))
                      .as("ot"))
              .where(FusionRules::multiHead),
          List.of("qt", "qr", "kt", "kr", "vt", "vr", "att", "ot"),
          List.of(),
          FusionRules::multiHeadAttention);

  /**
   * layer_norm(a + (m + bias), gamma, beta) with a bias over the last axis (a projection's bias
   * before the residual sum): SkipLayerNormalization with its bias input.
   */
  static final Fusion SKIP_LAYER_NORM_BIAS =
      new Fusion(
          "SKIP_LAYER_NORM_BIAS",
          ORT,
          op(Op.LAYER_NORM)
              .operands(biasedResidual(), vector("gamma"), vector("beta"))
              .where((v, m) -> f32(v)),
          List.of("sum", "biased"),
          List.of("sum"),
          (cx, m, root, out) ->
              skipNorm(
                  cx,
                  m,
                  "SkipLayerNormalization",
                  "m",
                  List.of(
                      cx.name(m.value("gamma")),
                      cx.name(m.value("beta")),
                      cx.name(m.value("bias"))),
                  NormalizationOps.LAYER_NORM_EPS.get(root.attrs()),
                  out));

  /** rms_norm(a + (m + bias), gamma): SkipSimplifiedLayerNormalization with its bias input. */
  static final Fusion SKIP_RMS_NORM_BIAS =
      new Fusion(
          "SKIP_RMS_NORM_BIAS",
          ORT,
          op(Op.RMS_NORM).operands(biasedResidual(), vector("gamma")).where((v, m) -> f32(v)),
          List.of("sum", "biased"),
          List.of("sum"),
          (cx, m, root, out) ->
              skipNorm(
                  cx,
                  m,
                  "SkipSimplifiedLayerNormalization",
                  "m",
                  List.of(cx.name(m.value("gamma")), cx.name(m.value("bias"))),
                  NormalizationOps.RMS_NORM_EPS.get(root.attrs()),
                  out));

  /** layer_norm(a + b, gamma, beta): {@code com.microsoft} SkipLayerNormalization. */
  static final Fusion SKIP_LAYER_NORM =
      new Fusion(
          "SKIP_LAYER_NORM",
          ORT,
          op(Op.LAYER_NORM)
              .operands(residual(), vector("gamma"), vector("beta"))
              .where((v, m) -> f32(v)),
          List.of("sum"),
          List.of("sum"),
          (cx, m, root, out) ->
              skipNorm(
                  cx,
                  m,
                  "SkipLayerNormalization",
                  "b",
                  List.of(cx.name(m.value("gamma")), cx.name(m.value("beta"))),
                  NormalizationOps.LAYER_NORM_EPS.get(root.attrs()),
                  out));

  /** rms_norm(a + b, gamma): {@code com.microsoft} SkipSimplifiedLayerNormalization. */
  static final Fusion SKIP_RMS_NORM =
      new Fusion(
          "SKIP_RMS_NORM",
          ORT,
          op(Op.RMS_NORM).operands(residual(), vector("gamma")).where((v, m) -> f32(v)),
          List.of("sum"),
          List.of("sum"),
          (cx, m, root, out) ->
              skipNorm(
                  cx,
                  m,
                  "SkipSimplifiedLayerNormalization",
                  "b",
                  List.of(cx.name(m.value("gamma"))),
                  NormalizationOps.RMS_NORM_EPS.get(root.attrs()),
                  out));

  /**
   * gelu(x + bias) with a bias over the last axis: {@code com.microsoft} BiasGelu (exact) or
   * FastGelu with its bias (tanh approximation).
   */
  static final Fusion BIAS_GELU =
      new Fusion(
          "BIAS_GELU",
          ORT,
          op(Op.GELU)
              .operands(
                  anyOf(
                          op(Op.ADD)
                              .operands(any().as("x"), any().as("bias"))
                              .where(FusionRules::lastAxisBias),
                          op(Op.ADD)
                              .operands(any().as("bias"), any().as("x"))
                              .where(FusionRules::lastAxisBias))
                      .as("sum")),
          List.of("sum"),
          List.of(),
          (cx, m, root, out) ->
              cx.node(
                  Target.MICROSOFT,
                  ElementwiseLowerings.tanhGelu(root) ? "FastGelu" : "BiasGelu",
                  List.of(cx.name(m.value("x")), cx.name(m.value("bias"))),
                  out));

  /** gelu(x): {@code com.microsoft} Gelu (exact) or FastGelu (tanh approximation). */
  static final Fusion GELU_MICROSOFT =
      new Fusion(
          "GELU_MICROSOFT",
          ORT,
          op(Op.GELU).where((v, m) -> f32(v)),
          List.of(),
          List.of(),
          (cx, m, root, out) ->
              cx.node(
                  Target.MICROSOFT,
                  ElementwiseLowerings.tanhGelu(root) ? "FastGelu" : "Gelu",
                  cx.operandNames(root),
                  out));

  /**
   * attention(q, k, v) that no larger rule took: the composed lowering with q @ k^T / sqrt(E) as
   * one {@code com.microsoft} FusedMatMul (transB, alpha).
   */
  static final Fusion FUSED_MATMUL_SCORES =
      new Fusion(
          "FUSED_MATMUL_SCORES",
          ORT,
          op(Op.ATTENTION).where((v, m) -> f32(v) && lastKnown(m.operands(v.node()).get(0).type())),
          List.of(),
          List.of(),
          (cx, m, root, out) ->
              AttentionLowerings.attention(cx, root, cx.operandNames(root), out, true));

  /** gelu(x): ONNX's Gelu (opset 20), {@code approximate} none or tanh. */
  static final Fusion GELU_20 =
      new Fusion(
          "GELU_20",
          OPSET20,
          op(Op.GELU).where((v, m) -> f32(v)),
          List.of(),
          List.of(),
          (cx, m, root, out) ->
              cx.node(
                  "Gelu",
                  cx.operandNames(root),
                  out,
                  Attr.s("approximate", ElementwiseLowerings.tanhGelu(root) ? "tanh" : "none")));

  /**
   * attention(q, k, v [, mask]) of rank 4 ([b, heads, s, d]) or 3 (one head): ONNX's Attention
   * (opset 23), {@code is_causal} for a causal mask without offset over equal lengths; a causal
   * attention with a mask as well keeps the composed form.
   */
  static final Fusion ATTENTION_23 =
      new Fusion(
          "ATTENTION_23",
          OPSET23,
          op(Op.ATTENTION).where(FusionRules::onnxAttention),
          List.of(),
          List.of(),
          FusionRules::attention23);

  /** rms_norm(x, gamma) with gamma over the last axis: ONNX's RMSNormalization (opset 23). */
  static final Fusion RMS_NORM_23 =
      new Fusion(
          "RMS_NORM_23",
          OPSET23,
          op(Op.RMS_NORM).operands(any(), vector("gamma")).where((v, m) -> f32(v)),
          List.of(),
          List.of(),
          (cx, m, root, out) ->
              cx.node(
                  "RMSNormalization",
                  cx.operandNames(root),
                  out,
                  Attr.i("axis", -1),
                  Attr.f(
                      "epsilon",
                      (float) (double) NormalizationOps.RMS_NORM_EPS.get(root.attrs()))));

  /**
   * a @ b + c with 2-D a and b, c broadcasting to the product: ONNX's Gemm, on every target (the
   * product is not read elsewhere).
   */
  static final Fusion GEMM =
      new Fusion(
          "GEMM",
          EVERY,
          anyOf(
                  op(Op.ADD).operands(op(Op.MATMUL).as("mm"), any().as("c")),
                  op(Op.ADD).operands(any().as("c"), op(Op.MATMUL).as("mm")))
              .where(FusionRules::gemm),
          List.of("mm"),
          List.of(),
          (cx, m, root, out) -> {
            List<String> in = new ArrayList<>(cx.operandNames(m.node("mm")));
            in.add(cx.name(m.value("c")));
            cx.node("Gemm", in, out);
          });

  /** Every rule, in the order they are offered to a node. */
  static final List<Fusion> ALL =
      List.of(
          MULTI_HEAD_ATTENTION,
          SKIP_LAYER_NORM_BIAS,
          SKIP_LAYER_NORM,
          SKIP_RMS_NORM_BIAS,
          SKIP_RMS_NORM,
          BIAS_GELU,
          GELU_MICROSOFT,
          FUSED_MATMUL_SCORES,
          GELU_20,
          ATTENTION_23,
          RMS_NORM_23,
          GEMM);

  // ---------------------------------------------------------------- patterns and conditions

  private static boolean lastKnown(TensorType t) {
    return t.rank() > 0 && t.dim(t.rank() - 1).isKnown();
  }

  /**
   * Whether the fused operators take {@code v}'s type: f32, or f16 (the {@code --precision f16}
   * artifact; ONNX Runtime 1.29's CPU and CUDA providers run each of them in f16).
   */
  private static boolean f32(Value v) {
    DType dt = v.type().dtype();
    return dt == DType.F32 || dt == DType.F16;
  }

  /** transpose(reshape(x, ...), ...) capturing x as {@code p}, the reshape and the transpose. */
  private static Pattern heads(String p) {
    return op(Op.TRANSPOSE).operands(op(Op.RESHAPE).operands(any().as(p)).as(p + "r")).as(p + "t");
  }

  /** a + b of one type (no broadcasting), captured as a, b and sum. */
  private static Pattern residual() {
    return op(Op.ADD)
        .operands(any().as("a"), any().as("b"))
        .where(
            (v, m) -> {
              TensorType t = v.type();
              return (t.rank() == 2 || t.rank() == 3)
                  && m.value("a").type().equals(t)
                  && m.value("b").type().equals(t);
            })
        .as("sum");
  }

  /**
   * a + (m + bias), either order at both levels, a and m of the sum's type (rank 2 or 3), bias 1-D
   * over the last axis; captured as a, m, bias, biased (m + bias) and sum.
   */
  private static Pattern biasedResidual() {
    // each order checked on its own: a failed condition tries the other order
    BiPredicate<Value, Match> bias =
        (v, m) -> {
          TensorType t = v.type();
          TensorType b = m.value("bias").type();
          return m.value("m").type().equals(t)
              && b.rank() == 1
              && b.dim(0).equals(t.dim(t.rank() - 1));
        };
    Pattern biased =
        anyOf(
                op(Op.ADD).operands(any().as("m"), any().as("bias")).where(bias),
                op(Op.ADD).operands(any().as("bias"), any().as("m")).where(bias))
            .as("biased");
    BiPredicate<Value, Match> sum =
        (v, m) -> {
          TensorType t = v.type();
          return (t.rank() == 2 || t.rank() == 3) && m.value("a").type().equals(t);
        };
    return anyOf(
            op(Op.ADD).operands(any().as("a"), biased).where(sum),
            op(Op.ADD).operands(biased, any().as("a")).where(sum))
        .as("sum");
  }

  /** A 1-D value over the root's last axis, captured as {@code name}. */
  private static Pattern vector(String name) {
    return any()
        .where(
            (v, m) -> {
              TensorType r = m.root().type();
              return v.type().rank() == 1 && v.type().dim(0).equals(r.dim(r.rank() - 1));
            })
        .as(name);
  }

  private static boolean lastAxisBias(Value root, Match m) {
    TensorType x = m.value("x").type();
    TensorType bias = m.value("bias").type();
    return f32(root)
        && x.equals(root.type())
        && bias.rank() == 1
        && x.rank() >= 1
        && bias.dim(0).equals(x.dim(x.rank() - 1));
  }

  private static boolean gemm(Value root, Match m) {
    List<Value> ab = m.operands(m.node("mm"));
    DType dt = root.type().dtype();
    return (dt == DType.F32 || dt == DType.F64 || dt == DType.F16)
        && ab.get(0).type().rank() == 2
        && ab.get(1).type().rank() == 2
        && m.value("c").type().rank() <= 2
        && root.type().equals(m.node("mm").type());
  }

  private static boolean swapsHeads(Node transpose) {
    return Arrays.equals(ShapeOps.PERM.get(transpose.attrs()), new long[] {0, 2, 1, 3});
  }

  /** The conditions of {@link #MULTI_HEAD_ATTENTION}; see there. */
  private static boolean multiHead(Value root, Match m) {
    Node att = m.node("att");
    if (!f32(root)
        || m.operands(att).size() != 3
        || !swapsHeads(m.node("ot"))
        || AttentionOps.CAUSAL_OFFSET.get(att.attrs()) != 0) {
      return false;
    }
    TensorType q = m.value("q").type();
    TensorType split = m.node("qr").type();
    if (q.rank() != 3
        || split.rank() != 4
        || !split.dim(2).isKnown()
        || !split.dim(3).isKnown()
        || !q.dim(2).isKnown()
        || q.dim(2).value() != split.dim(2).value() * split.dim(3).value()
        || !root.type().equals(q)) {
      return false;
    }
    for (String p : List.of("q", "k", "v")) {
      TensorType in = m.value(p).type();
      TensorType r = m.node(p + "r").type();
      if (!swapsHeads(m.node(p + "t"))
          || in.rank() != 3
          || r.rank() != 4
          || !in.dim(0).equals(q.dim(0))
          || !in.dim(2).equals(q.dim(2))
          || !r.dim(0).equals(in.dim(0))
          || !r.dim(1).equals(in.dim(1))
          || !r.dim(2).equals(split.dim(2))
          || !r.dim(3).equals(split.dim(3))) {
        return false;
      }
    }
    if (AttentionOps.CAUSAL.get(att.attrs()) && !m.value("k").type().dim(1).equals(q.dim(1))) {
      return false;
    }
    return true;
  }

  private static void multiHeadAttention(LoweringContext cx, Match m, Node root, List<String> out) {
    Node att = m.node("att");
    long heads = m.node("qr").type().dim(2).value();
    List<String> in = List.of(cx.name(m.value("q")), cx.name(m.value("k")), cx.name(m.value("v")));
    if (AttentionOps.CAUSAL.get(att.attrs())) {
      cx.node(
          Target.MICROSOFT,
          "MultiHeadAttention",
          in,
          out,
          Attr.i("num_heads", heads),
          Attr.i("unidirectional", 1));
    } else {
      cx.node(Target.MICROSOFT, "MultiHeadAttention", in, out, Attr.i("num_heads", heads));
    }
  }

  /**
   * SkipLayerNormalization or its RMS variant of input a and the skip captured as {@code skip}; the
   * sum is written when others read it.
   */
  private static void skipNorm(
      LoweringContext cx,
      Match m,
      String opType,
      String skip,
      List<String> params,
      double eps,
      List<String> out) {
    List<String> in = new ArrayList<>();
    in.add(cx.name(m.value("a")));
    in.add(cx.name(m.value(skip)));
    in.addAll(params);
    Node sum = m.node("sum");
    boolean read = cx.ir().outputs().containsValue(sum.out()) || m.users(sum).size() > 1;
    List<String> outs = read ? List.of(out.get(0), "", "", cx.name(sum.out())) : out;
    cx.node(Target.MICROSOFT, opType, in, outs, Attr.f("epsilon", (float) eps));
  }

  /** The conditions of {@link #ATTENTION_23}; see there. */
  private static boolean onnxAttention(Value root, Match m) {
    List<Value> ops = m.operands(root.node());
    TensorType q = ops.get(0).type();
    TensorType k = ops.get(1).type();
    boolean causal = AttentionOps.CAUSAL.get(root.node().attrs());
    boolean mask = ops.size() == 4;
    if (!f32(root) || (q.rank() != 3 && q.rank() != 4)) {
      return false;
    }
    if (causal
        && (mask
            || AttentionOps.CAUSAL_OFFSET.get(root.node().attrs()) != 0
            || !q.dim(q.rank() - 2).equals(k.dim(k.rank() - 2)))) {
      return false;
    }
    return !mask || q.rank() == 4 || ops.get(3).type().rank() <= 2;
  }

  private static void attention23(LoweringContext cx, Match m, Node root, List<String> out) {
    List<String> in = new ArrayList<>(cx.operandNames(root));
    List<Value> ops = m.operands(root);
    DType dt = root.type().dtype();
    if (ops.size() == 4 && ops.get(3).type().dtype().isFloat() && ops.get(3).type().dtype() != dt) {
      // a float mask has the scores' type (the f16 artifact keeps masks f32 until here)
      in.set(3, cx.op("Cast", List.of(in.get(3)), Attr.i("to", dt.onnxCode)));
    }
    boolean causal = AttentionOps.CAUSAL.get(root.attrs());
    List<AttributeProto> attrs = new ArrayList<>();
    if (ops.get(0).type().rank() == 3) {
      attrs.add(Attr.i("q_num_heads", 1));
      attrs.add(Attr.i("kv_num_heads", 1));
    }
    if (causal) {
      attrs.add(Attr.i("is_causal", 1));
    }
    if (root.type().dtype() == DType.F16) {
      // the scores' softmax in f32, as the composed lowering does it
      attrs.add(Attr.i("softmax_precision", DType.F32.onnxCode));
    }
    cx.node("Attention", in, out, attrs.toArray(new AttributeProto[0]));
  }
}
