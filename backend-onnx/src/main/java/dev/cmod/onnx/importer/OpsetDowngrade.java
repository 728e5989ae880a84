package dev.cmod.onnx.importer;

import static dev.cmod.onnx.importer.NodeProtos.attr;
import static dev.cmod.onnx.importer.NodeProtos.drop;
import static dev.cmod.onnx.importer.NodeProtos.intAttr;
import static dev.cmod.onnx.importer.NodeProtos.intOf;
import static dev.cmod.onnx.importer.NodeProtos.intsAttr;
import static dev.cmod.onnx.importer.NodeProtos.longs;
import static dev.cmod.onnx.importer.NodeProtos.stringAttr;
import static dev.cmod.onnx.importer.NodeProtos.stringOf;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxVersions;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites the nodes of an opaque region from a model whose default-domain opset is newer than the
 * one cmod emits ({@value OnnxVersions#OPSET}, up to {@link dev.cmod.onnx.OnnxImporter#MAX_OPSET})
 * into nodes that compute the same numbers at that opset: the mirror image of {@link OpsetUpgrade}.
 * Most operators of opsets 18 to 22 only accept more element types (float 8, 4-bit integers,
 * bfloat16) and are copied as they are; a type opset {@value OnnxVersions#OPSET} lacks is refused
 * where the importer reads it. Inputs that were attributes at {@value OnnxVersions#OPSET} ({@code
 * axes} of the reductions, {@code axis} of DFT) become attributes again where they are constants;
 * attributes with their default meaning ({@code saturate}, {@code dilations} of 1, {@code antialias
 * = 0}) are dropped; a partial {@code axes} of Pad and Resize, and Split's {@code num_outputs}, are
 * spelled out at run time with {@code Shape} and {@code ScatterElements}, so they need no rank;
 * Gelu, Mish, CenterCropPad and GroupNormalization become their defining formulas (in the order of
 * ONNX's own function bodies, which ONNX Runtime runs). What has no exact opset-{@value
 * OnnxVersions#OPSET} form is refused with an {@link
 * dev.cmod.ir.graph.ImportedModule.ImportException} naming the operator, its node and the opset.
 */
final class OpsetDowngrade extends RegionRewriter {
  /** What the importer knows about values made outside the region (raised values, weights). */
  interface Facts {
    /** The value of {@code name} when the importer knows it at import time; null otherwise. */
    Tensor constant(String name);

    /** The rank of {@code name} when the importer knows it; -1 otherwise. */
    int rank(String name);

    /** The ONNX element type of {@code name} when the importer knows it; 0 otherwise. */
    int elemType(String name);
  }

  /**
   * Operators that opset {@value OnnxVersions#OPSET} does not have, by the opset that added them.
   */
  private static final Map<String, Integer> NEW_OPS =
      Map.ofEntries(
          Map.entry("BitwiseAnd", 18),
          Map.entry("BitwiseNot", 18),
          Map.entry("BitwiseOr", 18),
          Map.entry("BitwiseXor", 18),
          Map.entry("Col2Im", 18),
          Map.entry("DeformConv", 19),
          Map.entry("AffineGrid", 20),
          Map.entry("ImageDecoder", 20),
          Map.entry("RegexFullMatch", 20),
          Map.entry("StringConcat", 20),
          Map.entry("StringSplit", 20));

  private static final Set<String> PLAIN_REDUCTIONS =
      Set.of("ReduceMax", "ReduceMin", "ReduceMean", "ReduceProd");

  private static final Set<String> COMPOSITE_REDUCTIONS =
      Set.of("ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare");

  private final Facts facts;

  /** The ranks and element types known of the model's values. */
  private final RegionValueTypes types;

  OpsetDowngrade(ImportSource source, Facts facts) {
    super(source);
    this.facts = facts;
    this.types = new RegionValueTypes(source.graph(), facts);
  }

  /** Whether a model at {@code opset} needs its opaque regions rewritten down. */
  static boolean needed(int opset) {
    return opset > OnnxVersions.OPSET;
  }

  @Override
  Tensor outerConstant(String name) {
    Tensor t = super.outerConstant(name);
    return t != null ? t : facts.constant(name);
  }

  @Override
  String advice() {
    return "export the model at opset "
        + OnnxVersions.OPSET
        + " (torch.onnx.export(..., opset_version="
        + OnnxVersions.OPSET
        + ")) or convert it (onnx.version_converter) before importing";
  }

  // ---------------------------------------------------------------- conversions

  @Override
  NodeProto convert(NodeProto n) {
    String type = n.getOpType();
    Integer since = NEW_OPS.get(type);
    if (since != null) {
      throw refuse(n, "is an operator added at opset " + since);
    }
    NodeProto.Builder b = n.toBuilder();
    if (PLAIN_REDUCTIONS.contains(type) || COMPOSITE_REDUCTIONS.contains(type)) {
      return reduce(n, b);
    }
    switch (type) {
      case "Split" -> split(n, b);
      case "Pad" -> pad(n, b);
      case "Resize" -> resize(n, b);
      case "AveragePool", "LpPool" -> pool(n, b);
      case "Cast", "CastLike" -> {
        drop(b, "saturate"); // it applies to float 8 only
        long to = intOf(n, "to", 0);
        if (type.equals("Cast") && to > TensorProto.DataType.BFLOAT16_VALUE) {
          throw refuse(n, "casts to ONNX element type " + to + " (float 8 or 4-bit)");
        }
      }
      case "ScatterElements", "ScatterND" -> {
        String reduction = stringOf(n, "reduction", "none");
        if (reduction.equals("min") || reduction.equals("max")) {
          throw refuse(n, "reduces with '" + reduction + "' (added at opset 18)");
        }
      }
      case "QuantizeLinear" -> quantize(n, b);
      case "DequantizeLinear" -> blocks(n, b);
      case "DFT" -> {
        if (opset >= 20) {
          dft(n, b);
        }
      }
      case "GridSample" -> {
        if (opset >= 20) {
          gridSample(n, b);
        }
      }
      case "OptionalHasElement", "OptionalGetElement" -> {
        return optional(n, b);
      }
      case "Gelu" -> {
        return gelu(n);
      }
      case "Mish" -> {
        String sp = add(n, "Softplus", "softplus", List.of(n.getInput(0)));
        String t = add(n, "Tanh", "tanh", List.of(sp));
        return last(n, "Mul", List.of(n.getInput(0), t));
      }
      case "GroupNormalization" -> {
        return groupNorm(n);
      }
      case "CenterCropPad" -> {
        return centerCropPad(n);
      }
      default -> {}
    }
    return b.build();
  }

  /**
   * The reductions take their axes as an input from opset 18 (an attribute at 13), and {@code
   * noop_with_empty_axes}: constant axes become the attribute again; no axes with the no-op flag is
   * the identity, after the elementwise steps of the composite reductions (ReduceSumSquare squares,
   * ReduceL1 takes the absolute value...), as ONNX defines it.
   */
  private NodeProto reduce(NodeProto n, NodeProto.Builder b) {
    boolean noop = intOf(n, "noop_with_empty_axes", 0) != 0;
    drop(b, "noop_with_empty_axes");
    long[] axes = null;
    if (n.getInputCount() > 1 && !n.getInput(1).isEmpty()) {
      Tensor t = get(n, 1);
      if (t == null) {
        throw refuse(n, "reduces over axes computed at run time (its axes input)");
      }
      axes = t.longs();
    }
    b.clearInput().addInput(n.getInput(0));
    if (axes != null && axes.length > 0) {
      return overBool(n, b.addAttribute(intsAttr("axes", axes)));
    }
    if (!noop) {
      return overBool(n, b); // every axis
    }
    // over no axis the reduction is the identity, the composite ones' other steps still apply
    String x = n.getInput(0);
    return switch (n.getOpType()) {
      case "ReduceL1" -> last(n, "Abs", List.of(x));
      case "ReduceL2" -> last(n, "Sqrt", List.of(add(n, "Mul", "square", List.of(x, x))));
      case "ReduceSumSquare" -> last(n, "Mul", List.of(x, x));
      case "ReduceLogSum" -> last(n, "Log", List.of(x));
      case "ReduceLogSumExp" -> last(n, "Log", List.of(add(n, "Exp", "exp", List.of(x))));
      default -> last(n, "Identity", List.of(x));
    };
  }

  /**
   * ReduceMax and ReduceMin of booleans (opset 20: any, all) as the reduction of their int32 cast,
   * cast back; other reductions as they are.
   */
  private NodeProto overBool(NodeProto n, NodeProto.Builder b) {
    boolean maxMin = n.getOpType().equals("ReduceMax") || n.getOpType().equals("ReduceMin");
    if (!maxMin || elemType(n.getInput(0)) != TensorProto.DataType.BOOL_VALUE) {
      return b.build();
    }
    int i32 = TensorProto.DataType.INT32_VALUE;
    b.setInput(0, add(n, "Cast", "as_int", List.of(n.getInput(0)), intAttr("to", i32)));
    String reduced = fresh(n, "reduced");
    before.add(b.clearOutput().addOutput(reduced).setName(fresh(n, n.getOpType())).build());
    NodeProto.Builder back = last(n, "Cast", List.of(reduced)).toBuilder();
    return back.addAttribute(intAttr("to", TensorProto.DataType.BOOL_VALUE)).build();
  }

  /**
   * Split's {@code num_outputs} (opset 18) cuts parts of ceil(d / k) and a smaller last one; opset
   * 13 splits equally only. The sizes are computed from the axis's size at run time.
   */
  private void split(NodeProto n, NodeProto.Builder b) {
    AttributeProto num = attr(n, "num_outputs");
    if (num == null) {
      return;
    }
    drop(b, "num_outputs");
    if (n.getInputCount() > 1 && !n.getInput(1).isEmpty()) {
      return; // the sizes are given as well
    }
    long k = num.getI();
    if (k != n.getOutputCount()) {
      throw refuse(n, "has num_outputs = " + k + " but " + n.getOutputCount() + " outputs");
    }
    if (k == 1) {
      return;
    }
    long axis = intOf(n, "axis", 0);
    String x = n.getInput(0);
    String d =
        axis == -1
            ? add(n, "Shape", "axis_size", List.of(x), intAttr("start", -1))
            : add(
                n,
                "Shape",
                "axis_size",
                List.of(x),
                intAttr("start", axis),
                intAttr("end", axis + 1));
    String rest = constInts(n, "k_minus_1", new long[] {k - 1}, false);
    String ceil =
        add(
            n,
            "Div",
            "part",
            List.of(
                add(n, "Add", "axis_size_up", List.of(d, rest)),
                constInts(n, "k", new long[] {k}, false)));
    String last =
        add(n, "Sub", "last", List.of(d, add(n, "Mul", "first_parts", List.of(ceil, rest))));
    String firsts = add(n, "Expand", "parts", List.of(ceil, rest));
    String sizes = add(n, "Concat", "split", List.of(firsts, last), intAttr("axis", 0));
    b.clearInput().addInput(x).addInput(sizes);
  }

  /**
   * Pad's {@code axes} input (opset 18) pads only the axes it names: the full pads are scattered
   * into zeros at run time. Mode {@code wrap} (opset 19) has no opset-13 form.
   */
  private void pad(NodeProto n, NodeProto.Builder b) {
    if (stringOf(n, "mode", "constant").equals("wrap")) {
      throw refuse(n, "pads in mode 'wrap' (added at opset 19)");
    }
    if (n.getInputCount() < 4 || n.getInput(3).isEmpty()) {
      return;
    }
    String x = n.getInput(0);
    Tensor axes = get(n, 3);
    b.clearInput().addInput(x);
    if (axes == null || !isEveryAxis(axes.longs(), rank(n, 0))) {
      b.addInput(fullPads(n, x, n.getInput(3), n.getInput(1)));
    } else {
      b.addInput(n.getInput(1));
    }
    if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
      b.addInput(n.getInput(2));
    }
  }

  /** The pads of every axis of {@code x}: {@code pads} of {@code axes}, zeros elsewhere. */
  private String fullPads(NodeProto n, String x, String axes, String pads) {
    String r = rankOf(n, x);
    String an = normalizedAxes(n, axes, r);
    String idx =
        add(
            n,
            "Concat",
            "pads_index",
            List.of(an, add(n, "Add", "end_axes", List.of(an, r))),
            intAttr("axis", 0));
    String twice =
        add(n, "Mul", "pads_count", List.of(r, constInts(n, "two", new long[] {2}, false)));
    String zeros = filled(n, "no_pads", twice, NodeProtos.int64s(new long[] {0}, false));
    return scatter(n, "pads", zeros, idx, pads);
  }

  /**
   * CenterCropPad (opset 18) as ONNX's function body defines it: pad each listed axis to at least
   * its target (the odd pixel on the right), then slice the centered window (the odd pixel cut on
   * the right).
   */
  private NodeProto centerCropPad(NodeProto n) {
    String x = n.getInput(0);
    int i64 = TensorProto.DataType.INT64_VALUE;
    String target = add(n, "Cast", "target", List.of(n.getInput(1)), intAttr("to", i64));
    AttributeProto axesAttr = attr(n, "axes");
    String axes = axesAttr == null ? null : constInts(n, "axes", longs(axesAttr), false);
    String two = constInts(n, "two", new long[] {2}, false);
    String size = sizesAt(n, x, axes, "input_sizes");
    String pad =
        add(n, "Sub", "pad", List.of(add(n, "Max", "padded", List.of(size, target)), size));
    String left = add(n, "Div", "pad_left", List.of(pad, two));
    String right = add(n, "Sub", "pad_right", List.of(pad, left));
    String pads = add(n, "Concat", "pads_of_axes", List.of(left, right), intAttr("axis", 0));
    String padded =
        add(n, "Pad", "padded_input", List.of(x, axes == null ? pads : fullPads(n, x, axes, pads)));
    String diff =
        add(n, "Sub", "excess", List.of(sizesAt(n, padded, axes, "padded_sizes"), target));
    String start = add(n, "Div", "starts", List.of(diff, two));
    String end = add(n, "Add", "ends", List.of(start, target));
    List<String> slice =
        axes == null ? List.of(padded, start, end) : List.of(padded, start, end, axes);
    return last(n, "Slice", slice);
  }

  /** The sizes of {@code x} at {@code axes} (every axis when null), at run time. */
  private String sizesAt(NodeProto n, String x, String axes, String what) {
    String shape = add(n, "Shape", what + "_all", List.of(x));
    return axes == null ? shape : add(n, "Gather", what, List.of(shape, axes));
  }

  /**
   * Resize-18 and 19 as Resize-13: {@code antialias}, {@code keep_aspect_ratio_policy} with sizes,
   * and {@code half_pixel_symmetric} have no opset-13 form; a partial {@code axes} is spelled out
   * at run time (the sizes of the other axes are the input's, their scales 1, their roi [0, 1]).
   */
  private void resize(NodeProto n, NodeProto.Builder b) {
    if (intOf(n, "antialias", 0) != 0) {
      throw refuse(n, "resizes with antialias = 1");
    }
    drop(b, "antialias");
    String ctm = stringOf(n, "coordinate_transformation_mode", "half_pixel");
    if (ctm.equals("half_pixel_symmetric")) {
      throw refuse(n, "uses coordinate_transformation_mode 'half_pixel_symmetric'");
    }
    boolean sizes = n.getInputCount() > 3 && !n.getInput(3).isEmpty();
    String policy = stringOf(n, "keep_aspect_ratio_policy", "stretch");
    if (sizes && !policy.equals("stretch")) {
      throw refuse(n, "keeps the aspect ratio of its sizes ('" + policy + "')");
    }
    drop(b, "keep_aspect_ratio_policy");
    AttributeProto axesAttr = attr(n, "axes");
    if (axesAttr == null) {
      return;
    }
    drop(b, "axes");
    long[] axes = longs(axesAttr);
    if (isEveryAxis(axes, rank(n, 0))) {
      return;
    }
    String x = n.getInput(0);
    String r = rankOf(n, x);
    String an = normalizedAxes(n, constInts(n, "axes", axes, false), r);
    while (b.getInputCount() < 4) {
      b.addInput("");
    }
    if (sizes) {
      String shape = add(n, "Shape", "input_sizes", List.of(x));
      b.setInput(3, scatter(n, "sizes", shape, an, n.getInput(3)));
    } else if (!n.getInput(2).isEmpty()) {
      String ones = filled(n, "unit_scales", r, NodeProtos.floats(new float[] {1}, false));
      b.setInput(2, scatter(n, "scales", ones, an, n.getInput(2)));
    }
    if (ctm.equals("tf_crop_and_resize") && !n.getInput(1).isEmpty()) {
      String zeros = filled(n, "roi_starts", r, NodeProtos.floats(new float[] {0}, false));
      String ones = filled(n, "roi_ends", r, NodeProtos.floats(new float[] {1}, false));
      String whole = add(n, "Concat", "whole_roi", List.of(zeros, ones), intAttr("axis", 0));
      String like = add(n, "CastLike", "whole_roi_like", List.of(whole, n.getInput(1)));
      String idx =
          add(
              n,
              "Concat",
              "roi_index",
              List.of(an, add(n, "Add", "roi_end_axes", List.of(an, r))),
              intAttr("axis", 0));
      b.setInput(1, scatter(n, "roi", like, idx, n.getInput(1)));
    } else {
      b.setInput(1, ""); // read only by tf_crop_and_resize, and it has other axes now
    }
  }

  /**
   * AveragePool-19's dilations and LpPool-18's dilations and ceil_mode, where they change nothing.
   */
  private void pool(NodeProto n, NodeProto.Builder b) {
    AttributeProto dil = attr(n, "dilations");
    if (dil != null) {
      for (long d : longs(dil)) {
        if (d != 1) {
          throw refuse(n, "has dilations " + Arrays.toString(longs(dil)));
        }
      }
      drop(b, "dilations");
    }
    if (n.getOpType().equals("LpPool")) {
      if (intOf(n, "ceil_mode", 0) != 0) {
        throw refuse(n, "rounds its output size up (ceil_mode = 1)");
      }
      drop(b, "ceil_mode");
    }
  }

  /**
   * QuantizeLinear-19/21: {@code saturate} applies to float 8 only; {@code output_dtype} (21)
   * without a zero point becomes a zero point of that type; blocks have no opset-13 form.
   */
  private void quantize(NodeProto n, NodeProto.Builder b) {
    drop(b, "saturate");
    blocks(n, b);
    long dt = intOf(n, "output_dtype", 0);
    drop(b, "output_dtype");
    boolean zeroPoint = n.getInputCount() > 2 && !n.getInput(2).isEmpty();
    if (dt == 0 || zeroPoint || dt == TensorProto.DataType.UINT8_VALUE) {
      return;
    }
    if (dt != TensorProto.DataType.INT8_VALUE) {
      throw refuse(n, "quantizes to ONNX element type " + dt + " (output_dtype)");
    }
    String shape = add(n, "Shape", "zero_point_shape", List.of(n.getInput(1)));
    TensorProto zero =
        TensorProto.newBuilder().setDataType((int) dt).addDims(1).addInt32Data(0).build();
    String zp = filled(n, "zero_point", shape, zero);
    b.clearInput().addInput(n.getInput(0)).addInput(n.getInput(1)).addInput(zp);
  }

  private void blocks(NodeProto n, NodeProto.Builder b) {
    long block = intOf(n, "block_size", 0);
    if (block != 0) {
      throw refuse(n, "quantizes in blocks (block_size = " + block + ")");
    }
    drop(b, "block_size");
  }

  /** DFT-20 takes its axis as an input (default -2); DFT-17 as an attribute. */
  private void dft(NodeProto n, NodeProto.Builder b) {
    long axis = -2;
    if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
      Tensor t = get(n, 2);
      if (t == null) {
        throw refuse(n, "takes its axis from a value computed at run time");
      }
      axis = t.longs()[0];
    }
    b.clearInput().addInput(n.getInput(0));
    if (n.getInputCount() > 1 && !n.getInput(1).isEmpty()) {
      b.addInput(n.getInput(1));
    }
    b.addAttribute(intAttr("axis", axis));
  }

  /** GridSample-20 renamed its modes (bilinear is linear, bicubic cubic) and samples N-D inputs. */
  private void gridSample(NodeProto n, NodeProto.Builder b) {
    int r = rank(n, 0);
    if (r >= 0 && r != 4) {
      throw refuse(n, "samples a rank-" + r + " input (opset 16 samples 4-D inputs only)");
    }
    String mode = stringOf(n, "mode", "linear");
    drop(b, "mode");
    b.addAttribute(
        stringAttr(
            "mode",
            switch (mode) {
              case "linear" -> "bilinear";
              case "cubic" -> "bicubic";
              default -> mode;
            }));
  }

  /**
   * OptionalHasElement and OptionalGetElement accept a plain tensor from opset 18 on (it has an
   * element; it is its element), and HasElement no input (false); an optional is as before.
   */
  private NodeProto optional(NodeProto n, NodeProto.Builder b) {
    boolean has = n.getOpType().equals("OptionalHasElement");
    String in = n.getInputCount() > 0 ? n.getInput(0) : "";
    if (has && in.isEmpty()) {
      return boolConstant(n, false);
    }
    Boolean optional = inFunction() ? null : types.optional(in);
    if (optional == null && (source.initializerNames().contains(in) || get(n, 0) != null)) {
      optional = false;
    }
    if (optional == null) {
      throw refuse(n, "reads '" + in + "', which the file does not type as an optional or not");
    }
    if (optional) {
      return b.build();
    }
    return has ? boolConstant(n, true) : last(n, "Identity", List.of(in));
  }

  /**
   * Gelu (opset 20): x (erf(x / sqrt 2) + 1) / 2, or with tanh(sqrt(2 / pi) (x + 0.044715 x^3)) in
   * place of the erf for {@code approximate = "tanh"}.
   */
  private NodeProto gelu(NodeProto n) {
    String x = n.getInput(0);
    String approximate = stringOf(n, "approximate", "none");
    String curve;
    switch (approximate) {
      case "none" -> {
        String c = likeInput(n, "inv_sqrt2", (float) (1 / Math.sqrt(2)));
        curve = add(n, "Erf", "erf", List.of(add(n, "Mul", "scaled", List.of(c, x))));
      }
      case "tanh" -> {
        String three = likeInput(n, "three", 3f);
        String cube = add(n, "Pow", "cube", List.of(x, three));
        String c = likeInput(n, "cubic_coeff", 0.044715f);
        String inner =
            add(n, "Add", "inner", List.of(x, add(n, "Mul", "cube_c", List.of(c, cube))));
        String s = likeInput(n, "sqrt_2_over_pi", (float) Math.sqrt(2 / Math.PI));
        curve = add(n, "Tanh", "tanh", List.of(add(n, "Mul", "scaled", List.of(s, inner))));
      }
      default -> throw refuse(n, "has approximate = '" + approximate + "'");
    }
    String one = likeInput(n, "one", 1f);
    String half = likeInput(n, "half", 0.5f);
    String plus = add(n, "Add", "curve_plus_1", List.of(curve, one));
    String phi = add(n, "Mul", "phi", List.of(plus, half));
    return last(n, "Mul", List.of(x, phi));
  }

  /**
   * GroupNormalization: the statistics of each group of channels over [N, G, rest], in the order of
   * ONNX's function body; per-group scale and bias at opsets 18 to 20, per-channel ones (and the
   * statistics in {@code stash_type}) from 21.
   */
  private NodeProto groupNorm(NodeProto n) {
    long groups = need(n, "num_groups").getI();
    float eps = attr(n, "epsilon") == null ? 1e-5f : attr(n, "epsilon").getF();
    boolean perChannel = opset >= 21;
    String x = n.getInput(0);
    String xs = x;
    if (perChannel) {
      xs = add(n, "Cast", "stashed", List.of(x), intAttr("to", intOf(n, "stash_type", 1)));
    }
    String shape = add(n, "Shape", "shape", List.of(x));
    String grouped =
        add(
            n,
            "Reshape",
            "grouped",
            List.of(xs, constInts(n, "group_shape", new long[] {0, groups, -1}, false)));
    AttributeProto lastAxis = intsAttr("axes", new long[] {2});
    String mean = add(n, "ReduceMean", "mean", List.of(grouped), lastAxis);
    String sq = add(n, "Mul", "square", List.of(grouped, grouped));
    String meanSq = add(n, "ReduceMean", "mean_of_square", List.of(sq), lastAxis);
    String sqMean = add(n, "Mul", "square_of_mean", List.of(mean, mean));
    String variance = add(n, "Sub", "variance", List.of(meanSq, sqMean));
    String epsilon =
        add(
            n,
            "CastLike",
            "epsilon",
            List.of(constant(n, "epsilon_f", NodeProtos.floats(new float[] {eps}, true)), grouped));
    String std =
        add(n, "Sqrt", "std", List.of(add(n, "Add", "variance_eps", List.of(variance, epsilon))));
    String dev = add(n, "Sub", "deviation", List.of(grouped, mean));
    String normed = add(n, "Div", "normalized", List.of(dev, std));
    String three = constInts(n, "channel_shape", new long[] {0, 0, -1}, false);
    if (perChannel) {
      String back = add(n, "Reshape", "normalized_shape", List.of(normed, shape));
      String nc = add(n, "Reshape", "normalized_nc", List.of(back, three));
      normed = add(n, "CastLike", "normalized_like", List.of(nc, x));
    }
    String affine = constInts(n, "affine_shape", new long[] {1, -1, 1}, false);
    String scale = add(n, "Reshape", "scale", List.of(n.getInput(1), affine));
    String bias = add(n, "Reshape", "bias", List.of(n.getInput(2), affine));
    String scaled = add(n, "Mul", "scaled", List.of(scale, normed));
    String biased = add(n, "Add", "biased", List.of(scaled, bias));
    return last(n, "Reshape", List.of(biased, shape));
  }

  // ---------------------------------------------------------------- helpers

  /** A node of {@code type} placed before {@code n}; its (fresh) output name. */
  private String add(
      NodeProto n, String type, String what, List<String> ins, AttributeProto... attrs) {
    String out = fresh(n, what);
    NodeProto.Builder b = op(n, type, ins, out).toBuilder();
    for (AttributeProto a : attrs) {
      b.addAttribute(a);
    }
    before.add(b.build());
    return out;
  }

  /** The node that makes {@code n}'s (only) output in its place. */
  private static NodeProto last(NodeProto n, String type, List<String> ins) {
    return NodeProto.newBuilder()
        .setOpType(type)
        .setName(n.getName())
        .addAllInput(ins)
        .addOutput(n.getOutput(0))
        .build();
  }

  private static NodeProto boolConstant(NodeProto n, boolean v) {
    TensorProto t =
        TensorProto.newBuilder()
            .setDataType(TensorProto.DataType.BOOL_VALUE)
            .addInt32Data(v ? 1 : 0)
            .build();
    return NodeProto.newBuilder()
        .setOpType("Constant")
        .setName(n.getName())
        .addOutput(n.getOutput(0))
        .addAttribute(NodeProtos.value(t))
        .build();
  }

  /** A tensor of shape {@code shape} (a value) filled with the one element of {@code value}. */
  private String filled(NodeProto n, String what, String shape, TensorProto value) {
    return add(n, "ConstantOfShape", what, List.of(shape), NodeProtos.value(value));
  }

  /** {@code into} with {@code updates} written at {@code index} (1-D). */
  private String scatter(NodeProto n, String what, String into, String index, String updates) {
    return add(n, "ScatterElements", what, List.of(into, index, updates), intAttr("axis", 0));
  }

  /** The rank of {@code x} at run time, as a 1-element int64 vector. */
  private String rankOf(NodeProto n, String x) {
    return add(n, "Shape", "rank", List.of(add(n, "Shape", "input_shape", List.of(x))));
  }

  /** The axes of value {@code axes} (any integer type) in [0, r), r the value {@code rank}. */
  private String normalizedAxes(NodeProto n, String axes, String rank) {
    String a =
        add(n, "Cast", "axes_i64", List.of(axes), intAttr("to", TensorProto.DataType.INT64_VALUE));
    return add(
        n, "Mod", "axes_from_0", List.of(add(n, "Add", "axes_plus_rank", List.of(a, rank)), rank));
  }

  /** Whether {@code axes} are 0, 1, ..., rank - 1 in order (false when the rank is unknown). */
  private static boolean isEveryAxis(long[] axes, int rank) {
    if (rank < 0 || axes.length != rank) {
      return false;
    }
    for (int i = 0; i < rank; i++) {
      if (axes[i] != i && axes[i] != i - rank) {
        return false;
      }
    }
    return true;
  }

  /** The rank of input {@code i} of {@code n} where the file or the importer says it; else -1. */
  private int rank(NodeProto n, int i) {
    String name = n.getInput(i);
    if (inFunction()) {
      Tensor c = get(n, i);
      return c == null ? -1 : c.rank();
    }
    int r = types.rank(name);
    if (r >= 0 || source.initializerNames().contains(name)) {
      return r; // a weight's rank is not worth reading its data for
    }
    Tensor c = get(n, i);
    return c == null ? -1 : c.rank();
  }

  /** The ONNX element type of {@code name} where it is known; else 0. */
  private int elemType(String name) {
    return inFunction() ? 0 : types.elemType(name);
  }
}
