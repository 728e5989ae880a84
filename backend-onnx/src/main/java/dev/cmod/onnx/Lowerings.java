package dev.cmod.onnx;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.graph.WindowGeometry;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * One ONNX lowering per IR operator (opset {@value OnnxVersions#OPSET}). Adding an operator is
 * adding one case to {@link #forOp}. Attribute names and meanings follow {@code ShapeInference};
 * axes arrive non-negative.
 */
final class Lowerings {
  private Lowerings() {}

  /**
   * The lowering of {@code op}, or null when the operator has none (leaves are handled by the
   * emitter).
   */
  static OpLowering forOp(Op op) {
    return switch (op) {
      case ADD -> same("Add");
      case SUB -> same("Sub");
      case MUL -> same("Mul");
      case DIV -> same("Div");
      case POW -> same("Pow");
      case MAXIMUM -> same("Max");
      case MINIMUM -> same("Min");
      case LESS -> same("Less");
      case LESS_EQUAL -> same("LessOrEqual");
      case GREATER -> same("Greater");
      case GREATER_EQUAL -> same("GreaterOrEqual");
      case EQUAL -> same("Equal");
      case NOT_EQUAL -> (cx, n, in, out) -> cx.node("Not", List.of(cx.op("Equal", in)), out);
      case NEG -> same("Neg");
      case EXP -> same("Exp");
      case LOG -> same("Log");
      case SQRT -> same("Sqrt");
      case ABS -> same("Abs");
      case TANH -> same("Tanh");
      case SIGMOID -> same("Sigmoid");
      case RELU -> Lowerings::relu;
      case ERF -> same("Erf");
      case GELU -> Lowerings::gelu;
      case SILU ->
          (cx, n, in, out) -> cx.node("Mul", List.of(in.get(0), cx.op("Sigmoid", in.get(0))), out);
      case WHERE -> same("Where");
      case MATMUL -> same("MatMul");
      case RESHAPE ->
          (cx, n, in, out) ->
              cx.node(
                  "Reshape",
                  List.of(in.get(0), cx.shape(n.attrs().getDims("dims"))),
                  out,
                  Attr.i("allowzero", 1));
      case TRANSPOSE ->
          (cx, n, in, out) ->
              cx.node("Transpose", in, out, Attr.ints("perm", n.attrs().getLongs("perm")));
      case CONCAT ->
          (cx, n, in, out) -> cx.node("Concat", in, out, Attr.i("axis", n.attrs().getLong("axis")));
      case SPLIT ->
          (cx, n, in, out) ->
              cx.node(
                  "Split",
                  List.of(in.get(0), cx.shape(n.attrs().getDims("sizes"))),
                  out,
                  Attr.i("axis", n.attrs().getLong("axis")));
      case SLICE ->
          (cx, n, in, out) ->
              cx.node(
                  "Slice",
                  List.of(
                      in.get(0),
                      cx.dim(n.attrs().getDim("start")),
                      cx.dim(n.attrs().getDim("end")),
                      cx.i64s(n.attrs().getLong("axis"))),
                  out);
      case UNSQUEEZE ->
          (cx, n, in, out) ->
              cx.node("Unsqueeze", List.of(in.get(0), cx.i64s(n.attrs().getLong("axis"))), out);
      case SQUEEZE ->
          (cx, n, in, out) ->
              cx.node("Squeeze", List.of(in.get(0), cx.i64s(n.attrs().getLong("axis"))), out);
      case BROADCAST ->
          (cx, n, in, out) ->
              cx.node("Expand", List.of(in.get(0), cx.shape(n.attrs().getDims("dims"))), out);
      case REDUCE_SUM ->
          (cx, n, in, out) ->
              cx.node(
                  "ReduceSum",
                  List.of(in.get(0), cx.i64s(n.attrs().getLong("axis"))),
                  out,
                  keepdims(n.attrs()));
      case REDUCE_MEAN -> reduce("ReduceMean");
      case REDUCE_MAX -> reduce("ReduceMax");
      case REDUCE_MIN -> reduce("ReduceMin");
      case ARGMAX ->
          (cx, n, in, out) ->
              cx.node(
                  "ArgMax",
                  in,
                  out,
                  Attr.i("axis", n.attrs().getLong("axis")),
                  keepdims(n.attrs()),
                  Attr.i("select_last_index", 0));
      case SOFTMAX ->
          (cx, n, in, out) ->
              cx.node("Softmax", in, out, Attr.i("axis", n.attrs().getLong("axis")));
      case LOG_SOFTMAX ->
          (cx, n, in, out) ->
              cx.node("LogSoftmax", in, out, Attr.i("axis", n.attrs().getLong("axis")));
      case LAYER_NORM ->
          (cx, n, in, out) ->
              cx.node(
                  "LayerNormalization",
                  in,
                  out,
                  Attr.i("axis", -1),
                  Attr.f("epsilon", (float) eps(n.attrs())));
      case RMS_NORM -> Lowerings::rmsNorm;
      case ATTENTION -> Lowerings::attention;
      case CONV1D, CONV2D -> Lowerings::conv;
      case AVG_POOL2D -> pool("AveragePool");
      case MAX_POOL2D -> pool("MaxPool");
      case UPSAMPLE -> Lowerings::upsample;
      case PATCHIFY -> Lowerings::patchify;
      case TAKE -> (cx, n, in, out) -> cx.node("Gather", in, out, Attr.i("axis", 0));
      case ONE_HOT -> Lowerings::oneHot;
      case COSINE -> Lowerings::cosine;
      case TOPK ->
          (cx, n, in, out) ->
              cx.node(
                  "TopK",
                  List.of(in.get(0), cx.i64s(n.attrs().getLong("k"))),
                  out,
                  Attr.i("axis", n.attrs().getLong("axis")),
                  Attr.i("largest", 1),
                  Attr.i("sorted", 1));
      case CAST ->
          (cx, n, in, out) ->
              cx.node("Cast", in, out, Attr.i("to", n.attrs().getDType("to").onnxCode));
      default -> null;
    };
  }

  /** An ONNX operator with the same operands and outputs as the IR node. */
  private static OpLowering same(String opType) {
    return (cx, n, in, out) -> cx.node(opType, in, out);
  }

  private static OpLowering reduce(String opType) {
    return (cx, n, in, out) ->
        cx.node(opType, in, out, Attr.ints("axes", n.attrs().getLong("axis")), keepdims(n.attrs()));
  }

  private static OpLowering pool(String opType) {
    return (cx, n, in, out) -> {
      if (!WindowGeometry.isPlain(n.attrs())) {
        WindowGeometry g = WindowGeometry.of(n.attrs(), 2, true);
        List<ai.onnx.proto.OnnxMl.AttributeProto> as =
            new ArrayList<>(
                List.of(
                    Attr.ints("kernel_shape", g.kernels()),
                    Attr.ints("strides", g.strides()),
                    Attr.ints("pads", g.pads())));
        if (opType.equals("AveragePool")) {
          as.add(Attr.i("count_include_pad", g.countIncludePad() ? 1 : 0));
        }
        cx.node(opType, in, out, as.toArray(new ai.onnx.proto.OnnxMl.AttributeProto[0]));
        return;
      }
      long k = n.attrs().getLong("kernel");
      long s = n.attrs().getLong("stride");
      cx.node(opType, in, out, Attr.ints("kernel_shape", k, k), Attr.ints("strides", s, s));
    };
  }

  private static ai.onnx.proto.OnnxMl.AttributeProto keepdims(Attrs a) {
    return Attr.i("keepdims", a.getBool("keep", false) ? 1 : 0);
  }

  /** The epsilon of a normalization (attribute "eps", default 1e-5 as in the interpreter). */
  static double eps(Attrs a) {
    return a.has("eps") ? a.getDouble("eps") : 1e-5;
  }

  private static TensorType operandType(LoweringContext cx, Node n, int i) {
    return cx.ir().operands(n).get(i).type();
  }

  private static void relu(LoweringContext cx, Node n, List<String> in, List<String> out) {
    DType dt = n.type().dtype();
    if (dt.isFloat()) {
      cx.node("Relu", in, out);
    } else {
      cx.node("Max", List.of(in.get(0), cx.scalar(0, dt)), out);
    }
  }

  /** Exact: 0.5*x*(1+erf(x/sqrt 2)); approx="tanh": 0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3))). */
  private static void gelu(LoweringContext cx, Node n, List<String> in, List<String> out) {
    DType dt = n.type().dtype();
    String x = in.get(0);
    Object approx = n.attrs().asMap().get("approx");
    boolean tanh = "tanh".equals(approx) || Boolean.TRUE.equals(approx);
    String inner;
    if (tanh) {
      String x3 = cx.op("Mul", cx.op("Mul", x, x), x);
      String arg = cx.op("Add", x, cx.op("Mul", cx.scalar(0.044715, dt), x3));
      inner = cx.op("Tanh", cx.op("Mul", cx.scalar(Math.sqrt(2 / Math.PI), dt), arg));
    } else {
      inner = cx.op("Erf", cx.op("Div", x, cx.scalar(Math.sqrt(2), dt)));
    }
    String halfX = cx.op("Mul", cx.scalar(0.5, dt), x);
    cx.node("Mul", List.of(halfX, cx.op("Add", cx.scalar(1, dt), inner)), out);
  }

  /** x / sqrt(mean(x*x over the last axis) + eps) * gamma. */
  private static void rmsNorm(LoweringContext cx, Node n, List<String> in, List<String> out) {
    DType dt = n.type().dtype();
    String x = in.get(0);
    int last = n.type().rank() - 1;
    String ms =
        cx.op(
            "ReduceMean",
            List.of(cx.op("Mul", x, x)),
            Attr.ints("axes", last),
            Attr.i("keepdims", 1));
    String rms = cx.op("Sqrt", cx.op("Add", ms, cx.scalar(eps(n.attrs()), dt)));
    cx.node("Mul", List.of(cx.op("Div", x, rms), in.get(1)), out);
  }

  /**
   * softmax(q @ k^T / sqrt(E) [+ mask]) @ v. A bool mask (false = masked) and the causal mask (key
   * j masked for query i when j &gt; i, built at runtime from Range over the sequence lengths)
   * become Where(keep, scores, -inf); a float mask is added.
   */
  private static void attention(LoweringContext cx, Node n, List<String> in, List<String> out) {
    List<Value> ops = cx.ir().operands(n);
    TensorType qt = ops.get(0).type();
    TensorType kt = ops.get(1).type();
    DType dt = qt.dtype();
    int r = qt.rank();
    String q = in.get(0);
    String k = in.get(1);
    long[] perm = new long[r];
    for (int i = 0; i < r; i++) {
      perm[i] = i;
    }
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    String scores = cx.op("MatMul", q, cx.op("Transpose", List.of(k), Attr.ints("perm", perm)));
    Dim e = qt.dim(r - 1);
    String scale;
    if (e.isKnown()) {
      scale = cx.scalar(1 / Math.sqrt(e.value()), dt);
    } else {
      String ef = cx.op("Cast", List.of(cx.axisScalar(q, r - 1)), Attr.i("to", dt.onnxCode));
      scale = cx.op("Reciprocal", cx.op("Sqrt", ef));
    }
    scores = cx.op("Mul", scores, scale);
    String negInf = cx.scalar(Double.NEGATIVE_INFINITY, dt);
    if (in.size() == 4) {
      String mask = in.get(3);
      if (ops.get(3).type().dtype() == DType.BOOL) {
        scores = cx.op("Where", mask, scores, negInf);
      } else {
        scores = cx.op("Add", scores, mask);
      }
    }
    if (n.attrs().getBool("causal", false)) {
      String lq = length(cx, q, qt, r - 2);
      String lk = length(cx, k, kt, r - 2);
      String qpos = cx.op("Range", cx.i64(0), lq, cx.i64(1));
      String cols = lk.equals(lq) ? qpos : cx.op("Range", cx.i64(0), lk, cx.i64(1));
      long offset = n.attrs().has("causal_offset") ? n.attrs().getLong("causal_offset") : 0;
      String shifted = offset == 0 ? qpos : cx.op("Add", qpos, cx.i64(offset));
      String rows = cx.op("Unsqueeze", shifted, cx.i64s(1));
      String keep = cx.op("LessOrEqual", cols, rows);
      scores = cx.op("Where", keep, scores, negInf);
    }
    String probs = cx.op("Softmax", List.of(scores), Attr.i("axis", -1));
    cx.node("MatMul", List.of(probs, in.get(2)), out);
  }

  /**
   * Axis {@code axis} of a value as a rank-0 int64: a constant when known, else read at runtime.
   */
  private static String length(LoweringContext cx, String v, TensorType t, int axis) {
    Dim d = t.dim(axis);
    return d.isKnown() ? cx.i64(d.value()) : cx.axisScalar(v, axis);
  }

  private static void conv(LoweringContext cx, Node n, List<String> in, List<String> out) {
    int spatial = n.op() == Op.CONV1D ? 1 : 2;
    if (!WindowGeometry.isPlain(n.attrs())) {
      WindowGeometry g = WindowGeometry.of(n.attrs(), spatial, false);
      cx.node(
          "Conv",
          in,
          out,
          Attr.ints("pads", g.pads()),
          Attr.ints("strides", g.strides()),
          Attr.ints("dilations", g.dilations()),
          Attr.i("group", g.groups()));
      return;
    }
    long s = n.attrs().getLong("stride");
    long p = n.attrs().getLong("padding");
    long[] pads = new long[2 * spatial];
    java.util.Arrays.fill(pads, p);
    long[] strides = new long[spatial];
    java.util.Arrays.fill(strides, s);
    cx.node("Conv", in, out, Attr.ints("pads", pads), Attr.ints("strides", strides));
  }

  /** Nearest-neighbour upsampling of every axis from 2 on: out[i] = in[floor(i / f)]. */
  private static void upsample(LoweringContext cx, Node n, List<String> in, List<String> out) {
    int r = n.type().rank();
    float[] scales = new float[r];
    for (int i = 0; i < r; i++) {
      scales[i] = i < 2 ? 1f : n.attrs().getLong("factor");
    }
    cx.node(
        "Resize",
        List.of(in.get(0), "", cx.f32s(scales)),
        out,
        Attr.s("mode", "nearest"),
        Attr.s("coordinate_transformation_mode", "asymmetric"),
        Attr.s("nearest_mode", "floor"));
  }

  /**
   * [..., C, H, W] -&gt; [..., C, H/p, p, W/p, p] -&gt; [..., H/p, W/p, C, p, p] -&gt; [...,
   * (H/p)*(W/p), C*p*p].
   */
  private static void patchify(LoweringContext cx, Node n, List<String> in, List<String> out) {
    TensorType x = operandType(cx, n, 0);
    int r = x.rank();
    int lead = r - 3;
    Dim p = Dim.of(n.attrs().getLong("patch"));
    List<Dim> split = new ArrayList<>(x.dims().subList(0, lead));
    split.addAll(List.of(x.dim(r - 3), x.dim(r - 2).div(p), p, x.dim(r - 1).div(p), p));
    String s = cx.op("Reshape", List.of(in.get(0), cx.shape(split)), Attr.i("allowzero", 1));
    long[] perm = new long[lead + 5];
    for (int i = 0; i < lead; i++) {
      perm[i] = i;
    }
    long[] tail = {1, 3, 0, 2, 4};
    for (int i = 0; i < 5; i++) {
      perm[lead + i] = lead + tail[i];
    }
    String t = cx.op("Transpose", List.of(s), Attr.ints("perm", perm));
    cx.node("Reshape", List.of(t, cx.shape(n.type().dims())), out, Attr.i("allowzero", 1));
  }

  /**
   * OneHot with depth n, values [0, 1] (f32), axis -1. ONNX wraps negative ids; the IR gives an
   * all-zero row for any id outside [0, n), so negative ids are first mapped to n. ORT only
   * implements int64 ids with an int64 depth and float values, so other id types are cast.
   */
  private static void oneHot(LoweringContext cx, Node n, List<String> in, List<String> out) {
    long depth = n.attrs().getLong("n");
    String ids = in.get(0);
    if (operandType(cx, n, 0).dtype() != DType.I64) {
      ids = cx.op("Cast", List.of(ids), Attr.i("to", DType.I64.onnxCode));
    }
    String negative = cx.op("Less", ids, cx.i64(0));
    String safe = cx.op("Where", negative, cx.i64(depth), ids);
    cx.node("OneHot", List.of(safe, cx.i64(depth), cx.f32s(0f, 1f)), out, Attr.i("axis", -1));
  }

  /**
   * sum(a*b) / max(sqrt(sum(a*a)) * sqrt(sum(b*b)), 1e-8) over {@code axis}, after broadcasting a
   * and b.
   */
  private static void cosine(LoweringContext cx, Node n, List<String> in, List<String> out) {
    DType dt = n.type().dtype();
    String a = in.get(0);
    String b = in.get(1);
    String ab = cx.op("Mul", a, b);
    if (!operandType(cx, n, 0).dims().equals(operandType(cx, n, 1).dims())) {
      String shape = cx.shapeOf(ab);
      a = cx.op("Expand", a, shape);
      b = cx.op("Expand", b, shape);
    }
    String axes = cx.i64s(n.attrs().getLong("axis"));
    var keep0 = Attr.i("keepdims", 0);
    String dot = cx.op("ReduceSum", List.of(ab, axes), keep0);
    String na = cx.op("Sqrt", cx.op("ReduceSum", List.of(cx.op("Mul", a, a), axes), keep0));
    String nb = cx.op("Sqrt", cx.op("ReduceSum", List.of(cx.op("Mul", b, b), axes), keep0));
    String den = cx.op("Max", cx.op("Mul", na, nb), cx.scalar(1e-8, dt));
    cx.node("Div", List.of(dot, den), out);
  }
}
