package dev.cmod.onnx.importer;

import static dev.cmod.onnx.importer.ImportContext.ones;
import static dev.cmod.onnx.importer.ImportContext.product;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Imports of ONNX's normalizations: Softmax and LogSoftmax (before opset 13 over a flattened
 * suffix), LayerNormalization (over the last axis after flattening the normalized ones; its mean
 * and inverse deviation outputs composed of reductions where read), InstanceNormalization (a layer
 * normalization over each channel's cells) and BatchNormalization in inference mode (composed from
 * its statistics).
 */
final class NormalizationImports {
  private NormalizationImports() {}

  static void register(ImportTable.Registrar r) {
    r.add("Softmax", Set.of(Op.SOFTMAX, Op.RESHAPE), cx -> softmax(cx, false));
    r.add("LogSoftmax", Set.of(Op.LOG_SOFTMAX, Op.RESHAPE), cx -> softmax(cx, true));
    r.add(
        "LayerNormalization",
        Set.of(
            Op.LAYER_NORM,
            Op.RESHAPE,
            Op.BROADCAST,
            Op.REDUCE_MEAN,
            Op.SUB,
            Op.MUL,
            Op.ADD,
            Op.SQRT,
            Op.RECIPROCAL),
        NormalizationImports::layerNorm);
    r.add(
        "InstanceNormalization",
        Set.of(Op.LAYER_NORM, Op.RESHAPE, Op.BROADCAST, Op.MUL, Op.ADD),
        NormalizationImports::instanceNorm);
    r.add(
        "Hardmax", Set.of(Op.ARGMAX, Op.EQUAL, Op.CAST, Op.RESHAPE), NormalizationImports::hardmax);
    r.add(
        "MeanVarianceNormalization",
        Set.of(Op.REDUCE_MEAN, Op.SUB, Op.MUL, Op.SQRT, Op.ADD, Op.DIV),
        NormalizationImports::meanVariance);
    r.add(
        "LRN",
        Set.of(Op.MUL, Op.TRANSPOSE, Op.MATMUL, Op.ADD, Op.POW, Op.DIV),
        NormalizationImports::lrn);
    r.add(
        "BatchNormalization",
        Set.of(Op.RESHAPE, Op.RECIPROCAL, Op.SQRT, Op.ADD, Op.MUL, Op.SUB),
        NormalizationImports::batchNorm);
  }

  private static void layerNorm(ImportContext cx) {
    boolean stats = cx.outputUsed(1) || cx.outputUsed(2);
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    int ax = cx.axis(cx.attrInt("axis", -1), r);
    DType dt = x.type().dtype();
    if (stats && (dt != DType.F32 || cx.attrInt("stash_type", 1) != 1)) {
      throw cx.unsupportedHere("the mean and inverse deviation outputs of a " + dt + " input");
    }
    List<Dim> dims = x.type().dims();
    Dim width = product(dims.subList(ax, r));
    Value gamma = cx.val(cx.need(1));
    Value beta = cx.in(2) == null ? null : cx.val(cx.in(2));
    if (ax != r - 1) {
      List<Dim> flat = new ArrayList<>(dims.subList(0, ax));
      flat.add(width);
      x = cx.reshape(x, flat);
    }
    gamma = cx.reshape(gamma, List.of(width));
    beta =
        beta == null
            ? cx.add(Op.BROADCAST, Attrs.of("dims", List.of(width)), cx.scalar(0, dt))
            : cx.reshape(beta, List.of(width));
    double eps = cx.attrFloat("epsilon", 1e-5f);
    Value y = cx.add(Op.LAYER_NORM, Attrs.of("eps", eps), x, gamma, beta);
    cx.out(cx.reshape(y, dims));
    if (stats) {
      // the statistics the normalization used, over the flattened axis, kept as size-1 axes
      List<Dim> kept = new ArrayList<>(dims.subList(0, ax));
      kept.addAll(ones(r - ax));
      int last = x.type().rank() - 1;
      Value mean = cx.add(Op.REDUCE_MEAN, Attrs.of("axis", last, "keep", true), x);
      Value d = cx.add(Op.SUB, x, mean);
      Value var =
          cx.add(Op.REDUCE_MEAN, Attrs.of("axis", last, "keep", true), cx.add(Op.MUL, d, d));
      Value inv = cx.add(Op.RECIPROCAL, cx.add(Op.SQRT, cx.add(Op.ADD, var, cx.scalar(eps, dt))));
      cx.out(1, ImportValue.of(cx.reshape(mean, kept)));
      cx.out(2, ImportValue.of(cx.reshape(inv, kept)));
    }
  }

  /**
   * InstanceNormalization: every (sample, channel) normalized over its spatial cells, as a layer
   * normalization of [N, C, cells], then scaled and shifted per channel.
   */
  private static void instanceNorm(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    if (r < 3) {
      throw new ShapeException("InstanceNormalization needs [N, C, D...], got " + x.type());
    }
    DType dt = x.type().dtype();
    List<Dim> dims = x.type().dims();
    Dim cells = product(dims.subList(2, r));
    Value flat = cx.reshape(x, List.of(dims.get(0), dims.get(1), cells));
    Value one = cx.add(Op.BROADCAST, Attrs.of("dims", List.of(cells)), cx.scalar(1, dt));
    Value zero = cx.add(Op.BROADCAST, Attrs.of("dims", List.of(cells)), cx.scalar(0, dt));
    double eps = cx.attrFloat("epsilon", 1e-5f);
    Value n = cx.add(Op.LAYER_NORM, Attrs.of("eps", eps), flat, one, zero);
    List<Dim> perChannel = List.of(dims.get(1), Dim.of(1));
    Value scale = cx.reshape(cx.val(cx.need(1)), perChannel);
    Value bias = cx.reshape(cx.val(cx.need(2)), perChannel);
    cx.out(cx.reshape(cx.add(Op.ADD, cx.add(Op.MUL, n, scale), bias), dims));
  }

  private static void batchNorm(ImportContext cx) {
    cx.onlyFirstOutput();
    if (cx.attrInt("training_mode", 0) != 0) {
      throw cx.unsupportedHere("training_mode = 1");
    }
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    if (r < 2) {
      throw new ShapeException("BatchNormalization needs [N, C, ...], got " + x.type());
    }
    DType dt = x.type().dtype();
    List<Dim> shape = new ArrayList<>();
    shape.add(x.type().dim(1));
    shape.addAll(ones(r - 2));
    Value scale = cx.reshape(cx.val(cx.need(1)), shape);
    Value bias = cx.reshape(cx.val(cx.need(2)), shape);
    Value mean = cx.reshape(cx.val(cx.need(3)), shape);
    Value var = cx.reshape(cx.val(cx.need(4)), shape);
    Value eps = cx.scalar(cx.attrFloat("epsilon", 1e-5f), dt);
    // x · s + (bias − mean · s), s = (1 / √(var + ε)) · scale: the form ONNX Runtime computes (and
    // folds into a preceding Conv), so the rounding is the same as the original's
    Value mul =
        cx.add(Op.MUL, cx.add(Op.RECIPROCAL, cx.add(Op.SQRT, cx.add(Op.ADD, var, eps))), scale);
    Value shift = cx.add(Op.SUB, bias, cx.add(Op.MUL, mean, mul));
    cx.out(cx.add(Op.ADD, cx.add(Op.MUL, x, mul), shift));
  }

  /**
   * Hardmax: 1 at the first maximum along the axis, 0 elsewhere (a comparison of the axis's
   * positions with the argmax); before opset 13 over a flattened suffix, as Softmax.
   */
  private static void hardmax(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    List<Dim> dims = x.type().dims();
    int ax;
    Value in = x;
    if (cx.opset() >= 13) {
      ax = cx.axis(cx.attrInt("axis", -1), r);
    } else {
      int from = cx.axis(cx.attrInt("axis", 1), r);
      in = cx.reshape(x, List.of(product(dims.subList(0, from)), product(dims.subList(from, r))));
      ax = 1;
    }
    Dim n = in.type().dim(ax);
    if (!n.isKnown()) {
      throw cx.unsupportedHere("an axis of size " + n);
    }
    long[] shape = new long[in.type().rank()];
    java.util.Arrays.fill(shape, 1);
    shape[ax] = n.value();
    long[] iota = new long[(int) n.value()];
    for (int i = 0; i < iota.length; i++) {
      iota[i] = i;
    }
    Value pos = cx.graph().addConst(dev.cmod.ir.tensor.Tensor.ofLongs(shape, iota), cx.loc());
    Value first = cx.add(Op.ARGMAX, Attrs.of("axis", ax, "keep", true), in);
    Value y = cx.add(Op.CAST, Attrs.of("to", x.type().dtype()), cx.add(Op.EQUAL, pos, first));
    cx.out(cx.reshape(y, dims));
  }

  /** MeanVarianceNormalization: (x - mean) / (deviation + 1e-9) over the axes (default 0, 2, 3). */
  private static void meanVariance(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    long[] axes = cx.attrInts("axes");
    if (axes == null) {
      axes = new long[] {0, 2, 3};
    }
    java.util.TreeSet<Integer> sorted =
        new java.util.TreeSet<>(java.util.Comparator.reverseOrder());
    for (long a : axes) {
      sorted.add(cx.axis(a, r));
    }
    Value mean = x;
    for (int a : sorted) {
      mean = cx.add(Op.REDUCE_MEAN, Attrs.of("axis", a, "keep", true), mean);
    }
    Value d = cx.add(Op.SUB, x, mean);
    Value var = cx.add(Op.MUL, d, d);
    for (int a : sorted) {
      var = cx.add(Op.REDUCE_MEAN, Attrs.of("axis", a, "keep", true), var);
    }
    DType dt = x.type().dtype();
    cx.out(cx.add(Op.DIV, d, cx.add(Op.ADD, cx.add(Op.SQRT, var), cx.scalar(1e-9, dt))));
  }

  /**
   * LRN: x / (bias + alpha / size * s)^beta, s the sum of squares over a window of channels (a
   * matmul with a constant band of ones, the channels moved last).
   */
  private static void lrn(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    DType dt = x.type().dtype();
    Dim ch = r >= 2 ? x.type().dim(1) : Dim.of(0);
    if (r < 3 || !ch.isKnown()) {
      throw cx.unsupportedHere("LRN over " + x.type());
    }
    int c = (int) ch.value();
    long size = cx.attrInt("size", 1);
    if (size % 2 == 0) {
      throw cx.unsupportedHere("an even size (ONNX Runtime, the oracle, refuses it)");
    }
    long lo = (size - 1) / 2;
    long hi = size - 1 - lo;
    float[] band = new float[c * c];
    for (int from = 0; from < c; from++) {
      for (int to = 0; to < c; to++) {
        band[from * c + to] = from >= to - lo && from <= to + hi ? 1f : 0f;
      }
    }
    long[] last = new long[r];
    long[] back = new long[r];
    last[0] = 0;
    for (int i = 2; i < r; i++) {
      last[i - 1] = i;
    }
    last[r - 1] = 1;
    for (int i = 0; i < r; i++) {
      back[(int) last[i]] = i;
    }
    Value sq = cx.add(Op.TRANSPOSE, Attrs.of("perm", last), cx.add(Op.MUL, x, x));
    Value m =
        cx.graph()
            .addConst(dev.cmod.ir.tensor.Tensor.ofFloats(dt, new long[] {c, c}, band), cx.loc());
    Value s = cx.add(Op.TRANSPOSE, Attrs.of("perm", back), cx.add(Op.MATMUL, sq, m));
    Value scaled = cx.add(Op.MUL, s, cx.scalar(cx.attrFloat("alpha", 1e-4f) / size, dt));
    Value den =
        cx.add(
            Op.POW,
            cx.add(Op.ADD, scaled, cx.scalar(cx.attrFloat("bias", 1f), dt)),
            cx.scalar(cx.attrFloat("beta", 0.75f), dt));
    cx.out(cx.add(Op.DIV, x, den));
  }

  private static void softmax(ImportContext cx, boolean log) {
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    Op op = log ? Op.LOG_SOFTMAX : Op.SOFTMAX;
    if (cx.opset() >= 13) {
      cx.out(cx.add(op, Attrs.of("axis", cx.axis(cx.attrInt("axis", -1), r)), x));
      return;
    }
    int ax = cx.axis(cx.attrInt("axis", 1), r);
    if (ax == r - 1) {
      cx.out(cx.add(op, Attrs.of("axis", ax), x));
      return;
    }
    List<Dim> dims = x.type().dims();
    Value flat = cx.reshape(x, List.of(product(dims.subList(0, ax)), product(dims.subList(ax, r))));
    cx.out(cx.reshape(cx.add(op, Attrs.of("axis", 1), flat), dims));
  }
}
