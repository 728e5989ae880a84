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
        "BatchNormalization",
        Set.of(Op.RESHAPE, Op.DIV, Op.SQRT, Op.ADD, Op.MUL, Op.SUB),
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
    Value mul = cx.add(Op.DIV, scale, cx.add(Op.SQRT, cx.add(Op.ADD, var, eps)));
    cx.out(cx.add(Op.ADD, cx.add(Op.MUL, cx.add(Op.SUB, x, mean), mul), bias));
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
