package dev.cmod.onnx.importer;

import static dev.cmod.onnx.importer.NodeProtos.attr;
import static dev.cmod.onnx.importer.NodeProtos.drop;
import static dev.cmod.onnx.importer.NodeProtos.intAttr;
import static dev.cmod.onnx.importer.NodeProtos.longs;
import static dev.cmod.onnx.importer.NodeProtos.scalarInfo;
import static dev.cmod.onnx.importer.NodeProtos.scalarType;
import static dev.cmod.onnx.importer.NodeProtos.stringAttr;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxVersions;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites the nodes of an opaque region from a model whose default-domain opset is older than the
 * one cmod emits ({@value OnnxVersions#OPSET}) into nodes that compute the same numbers at that
 * opset. An opaque region is inlined into an opset-{@value OnnxVersions#OPSET} artifact, and ONNX
 * Runtime reads every node there by its opset-{@value OnnxVersions#OPSET} schema: an operator whose
 * signature changed since the model's opset (an attribute that became an input, a deprecated
 * operator, a changed default) would be rejected or, worse, read with another meaning. The raised
 * tier needs none of this, because its handlers read the old forms themselves.
 *
 * <p>Every converted form is exact: attributes that became inputs become {@code Constant} nodes
 * placed just before the node (names unused anywhere in the model), deprecated operators become
 * their successors with the modes that ONNX Runtime used for them (Upsample and Resize-10 are
 * asymmetric resizes, nearest rounding down when enlarging and up when shrinking), Softmax's old
 * flatten-to-2-D semantics is spelled out, and Scan-8's batch axis becomes a Loop over the batch.
 * Subgraphs ({@code If}, {@code Loop}, {@code Scan} bodies, any graph attribute) are rewritten too.
 * What cannot be converted exactly is refused with an {@link ImportException} that names the
 * operator and its opset, never copied with a different meaning.
 */
final class OpsetUpgrade extends RegionRewriter {
  private static final Set<String> OLD_BROADCAST_OPS =
      Set.of("Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less");

  private static final Map<String, Integer> CAST_NAMES =
      Map.ofEntries(
          Map.entry("FLOAT", 1),
          Map.entry("UINT8", 2),
          Map.entry("INT8", 3),
          Map.entry("UINT16", 4),
          Map.entry("INT16", 5),
          Map.entry("INT32", 6),
          Map.entry("INT64", 7),
          Map.entry("STRING", 8),
          Map.entry("BOOL", 9),
          Map.entry("FLOAT16", 10),
          Map.entry("DOUBLE", 11),
          Map.entry("UINT32", 12),
          Map.entry("UINT64", 13));

  OpsetUpgrade(ImportSource source) {
    super(source);
  }

  /** Whether a model at {@code opset} needs its opaque regions rewritten. */
  static boolean needed(int opset) {
    return opset < OnnxVersions.OPSET;
  }

  // ---------------------------------------------------------------- conversions

  @Override
  NodeProto convert(NodeProto n) {
    NodeProto.Builder b = n.toBuilder();
    if (opset < 7) {
      legacyAttributes(n, b);
    }
    switch (n.getOpType()) {
      case "Unsqueeze", "Squeeze" -> {
        if (opset < 13) {
          axesToInput(n, b, "axes");
        }
      }
      case "ReduceSum" -> {
        if (opset < 13) {
          axesToInput(n, b, "axes");
        }
      }
      case "Split" -> {
        if (opset < 13 && attr(n, "split") != null) {
          axesToInput(n, b, "split");
        }
      }
      case "Slice" -> {
        if (opset < 10) {
          slice(n, b);
        }
      }
      case "Pad" -> {
        if (opset < 11) {
          pad(n, b);
        }
      }
      case "TopK" -> {
        if (opset < 10) {
          AttributeProto k = need(n, "k");
          drop(b, "k");
          b.addInput(constInts(n, "k", new long[] {k.getI()}, false));
        }
      }
      case "Clip" -> {
        if (opset < 11) {
          clip(n, b);
        }
      }
      case "Dropout" -> {
        if (opset < 12) {
          dropout(n, b);
        }
      }
      case "BatchNormalization" -> {
        if (opset < 14) {
          batchNorm(n, b);
        }
      }
      case "Upsample" -> upsample(n, b);
      case "Resize" -> {
        if (opset < 11) {
          resize10(n, b, get(n, 1));
        } else if (opset < 13 && n.getInputCount() > 3 && !n.getInput(3).isEmpty()) {
          // Resize-11 took an empty scales tensor beside sizes; 13 wants the input left out
          Tensor scales = get(n, 2);
          if (scales != null && scales.size() == 0) {
            b.setInput(2, "");
          }
        }
      }
      case "Scatter" -> b.setOpType("ScatterElements");
      case "Softmax", "LogSoftmax", "Hardmax" -> {
        if (opset < 13) {
          return softmax(n, b);
        }
      }
      case "Scan" -> {
        if (opset < 9) {
          return scan8(n);
        }
      }
      case "RoiAlign" -> {
        if (opset < 16 && attr(n, "coordinate_transformation_mode") == null) {
          // RoiAlign-10 had no half-pixel offset; RoiAlign-16 defaults to one
          b.addAttribute(stringAttr("coordinate_transformation_mode", "output_half_pixel"));
        }
      }
      case "Reshape" -> {
        if (opset < 5 && attr(n, "shape") != null) {
          long[] shape =
              need(n, "shape").getIntsList().stream().mapToLong(Long::longValue).toArray();
          drop(b, "shape");
          b.addInput(constInts(n, "shape", shape, false));
        }
      }
      case "Concat" -> {
        if (opset < 4 && attr(n, "axis") == null) {
          b.addAttribute(intAttr("axis", 1));
        }
      }
      case "Cast" -> {
        AttributeProto to = attr(n, "to");
        if (opset < 6 && to != null && to.getType() == AttributeType.STRING) {
          Integer code =
              CAST_NAMES.get(to.getS().toStringUtf8().toUpperCase(java.util.Locale.ROOT));
          if (code == null) {
            throw refuse(
                n, "casts to '" + to.getS().toStringUtf8() + "', which ONNX does not name");
          }
          drop(b, "to");
          b.addAttribute(intAttr("to", code));
        }
      }
      case "Tile" -> {
        if (opset < 6 && n.getInputCount() > 2) {
          throw refuse(n, "has the opset-1 form (tiles and axis inputs)");
        }
      }
      case "LpPool" -> {
        AttributeProto p = attr(n, "p");
        if (opset < 2 && p != null && p.getType() == AttributeType.FLOAT) {
          if (p.getF() != Math.rint(p.getF())) {
            throw refuse(n, "has a fractional p = " + p.getF());
          }
          drop(b, "p");
          b.addAttribute(intAttr("p", (long) p.getF()));
        }
      }
      default -> {}
    }
    return b.build();
  }

  /**
   * The attributes that opset 7 removed: {@code consumed_inputs}, {@code is_test}, old broadcast.
   */
  private void legacyAttributes(NodeProto n, NodeProto.Builder b) {
    drop(b, "consumed_inputs");
    drop(b, "is_test");
    drop(b, "output_sequence");
    if (attr(n, "broadcast") != null) {
      if (OLD_BROADCAST_OPS.contains(n.getOpType()) && attr(n, "axis") != null) {
        throw refuse(n, "broadcasts its second input from an explicit axis (the opset-6 form)");
      }
      drop(b, "broadcast"); // suffix-aligned broadcasting is numpy broadcasting
    }
  }

  /** An ints attribute that opset 13 (10, 11) turned into an int64 input after the first. */
  private void axesToInput(NodeProto n, NodeProto.Builder b, String name) {
    AttributeProto a = attr(n, name);
    if (a == null) {
      return;
    }
    drop(b, name);
    b.clearInput();
    b.addInput(n.getInputCount() > 0 ? n.getInput(0) : "");
    b.addInput(constInts(n, name, longs(a), false));
  }

  private void slice(NodeProto n, NodeProto.Builder b) {
    AttributeProto starts = need(n, "starts");
    AttributeProto ends = need(n, "ends");
    AttributeProto axes = attr(n, "axes");
    drop(b, "starts");
    drop(b, "ends");
    drop(b, "axes");
    b.clearInput().addInput(n.getInput(0));
    b.addInput(constInts(n, "starts", longs(starts), false));
    b.addInput(constInts(n, "ends", longs(ends), false));
    if (axes != null) {
      b.addInput(constInts(n, "axes", longs(axes), false));
    }
  }

  private void pad(NodeProto n, NodeProto.Builder b) {
    AttributeProto pads = attr(n, "pads");
    if (pads == null) {
      pads = need(n, "paddings"); // the name at opset 1
    }
    AttributeProto value = attr(n, "value");
    drop(b, "pads");
    drop(b, "paddings");
    drop(b, "value");
    b.clearInput().addInput(n.getInput(0));
    b.addInput(constInts(n, "pads", longs(pads), false));
    if (value != null && value.getF() != 0f) {
      b.addInput(likeInput(n, "value", value.getF()));
    }
  }

  private void clip(NodeProto n, NodeProto.Builder b) {
    AttributeProto min = attr(n, "min");
    AttributeProto max = attr(n, "max");
    drop(b, "min");
    drop(b, "max");
    b.clearInput().addInput(n.getInput(0));
    // an absent bound is the lowest (highest) float at both opsets
    if (min != null || max != null) {
      b.addInput(min == null ? "" : likeInput(n, "min", min.getF()));
    }
    if (max != null) {
      b.addInput(likeInput(n, "max", max.getF()));
    }
  }

  /**
   * Without training_mode, Dropout is the identity at every opset: the ratio has no effect. Its
   * mask before 12 is all false on ONNX Runtime (all true from 12 on), and of the data's type
   * before 10: made as such.
   */
  private void dropout(NodeProto n, NodeProto.Builder b) {
    drop(b, "ratio");
    if (n.getOutputCount() < 2 || n.getOutput(1).isEmpty()) {
      return;
    }
    b.clearOutput().addOutput(n.getOutput(0));
    String shape = fresh(n, "mask_shape");
    before.add(op(n, "Shape", List.of(n.getInput(0)), shape));
    String mask = opset < 10 ? fresh(n, "mask_bool") : n.getOutput(1);
    NodeProto.Builder zeros = op(n, "ConstantOfShape", List.of(shape), mask).toBuilder();
    TensorProto.Builder no = TensorProto.newBuilder().setDataType(TensorProto.DataType.BOOL_VALUE);
    zeros.addAttribute(NodeProtos.value(no.addDims(1).addInt32Data(0).build()));
    before.add(zeros.build());
    if (opset < 10) {
      before.add(op(n, "CastLike", List.of(mask, n.getInput(0)), n.getOutput(1)));
    }
  }

  private void batchNorm(NodeProto n, NodeProto.Builder b) {
    AttributeProto spatial = attr(n, "spatial");
    if (spatial != null && spatial.getI() != 1) {
      throw refuse(n, "normalizes per activation (spatial = 0), which opset 9 removed");
    }
    drop(b, "spatial");
    for (int i = 1; i < n.getOutputCount(); i++) {
      if (!n.getOutput(i).isEmpty()) {
        throw refuse(n, "makes its training outputs (mean, var, saved statistics)");
      }
    }
    b.clearOutput().addOutput(n.getOutput(0));
  }

  /** Upsample (deprecated at 10) as Resize: asymmetric; nearest rounds down (scales are >= 1). */
  private void upsample(NodeProto n, NodeProto.Builder b) {
    String scales;
    if (opset < 7) {
      float h = need(n, "height_scale").getF();
      float w = need(n, "width_scale").getF();
      drop(b, "height_scale");
      drop(b, "width_scale");
      AttributeProto mode = attr(n, "mode");
      if (mode != null && mode.getS().toStringUtf8().equals("bilinear")) {
        drop(b, "mode");
        b.addAttribute(stringAttr("mode", "linear"));
      }
      scales = constFloats(n, "scales", new float[] {1, 1, h, w});
    } else if (opset < 9) {
      AttributeProto s = need(n, "scales");
      drop(b, "scales");
      float[] f = new float[s.getFloatsCount()];
      for (int i = 0; i < f.length; i++) {
        f[i] = s.getFloats(i);
      }
      scales = constFloats(n, "scales", f);
    } else {
      scales = n.getInput(1);
    }
    b.setOpType("Resize");
    b.clearInput().addInput(n.getInput(0)).addInput("").addInput(scales);
    b.addAttribute(stringAttr("coordinate_transformation_mode", "asymmetric"));
    if (isNearest(n)) {
      b.addAttribute(stringAttr("nearest_mode", "floor"));
    }
  }

  /**
   * Resize-10 as Resize-13: asymmetric; nearest truncates where an axis grows and rounds up where
   * it shrinks. Where the scales are not known constants of one direction, the growing axes are
   * resized first (scales max(s, 1), rounding down) and the shrinking ones after (min(s, 1),
   * rounding up): each axis is resized once, so the numbers are the same.
   */
  private void resize10(NodeProto n, NodeProto.Builder b, Tensor scales) {
    b.clearInput().addInput(n.getInput(0)).addInput("").addInput(n.getInput(1));
    b.addAttribute(stringAttr("coordinate_transformation_mode", "asymmetric"));
    if (!isNearest(n)) {
      return;
    }
    boolean grows = scales != null;
    boolean shrinks = scales != null;
    for (int i = 0; scales != null && i < scales.size(); i++) {
      grows &= scales.get(i) >= 1;
      shrinks &= scales.get(i) <= 1;
    }
    if (grows || shrinks) {
      b.addAttribute(stringAttr("nearest_mode", grows ? "floor" : "ceil"));
      return;
    }
    String one = constFloats(n, "one", new float[] {1});
    String up = fresh(n, "grow_scales");
    String down = fresh(n, "shrink_scales");
    String mid = fresh(n, "grown");
    before.add(op(n, "Max", List.of(n.getInput(1), one), up));
    before.add(op(n, "Min", List.of(n.getInput(1), one), down));
    NodeProto.Builder first = b.clone().clearOutput().addOutput(mid).setName(fresh(n, "grow"));
    first.setInput(2, up).addAttribute(stringAttr("nearest_mode", "floor"));
    before.add(first.build());
    b.setInput(0, mid).setInput(2, down).addAttribute(stringAttr("nearest_mode", "ceil"));
  }

  /**
   * Softmax, LogSoftmax and Hardmax before 13 work on the input flattened to 2-D at {@code axis}
   * (default 1); from 13 on one axis. The last axis is the same either way; otherwise the old form
   * is spelled out: Flatten, the operator on axis 1, Reshape to the input's shape.
   */
  private NodeProto softmax(NodeProto n, NodeProto.Builder b) {
    AttributeProto a = attr(n, "axis");
    long axis = a == null ? 1 : a.getI();
    drop(b, "axis");
    if (axis == -1) {
      return b.addAttribute(intAttr("axis", -1)).build();
    }
    String x = n.getInput(0);
    String flat = fresh(n, "flat");
    String out = fresh(n, "flat_out");
    String shape = fresh(n, "shape");
    NodeProto.Builder f = NodeProto.newBuilder().setOpType("Flatten").setName(fresh(n, "flatten"));
    before.add(f.addInput(x).addOutput(flat).addAttribute(intAttr("axis", axis)).build());
    NodeProto.Builder s = b.clone().clearInput().addInput(flat).clearOutput().addOutput(out);
    before.add(s.addAttribute(intAttr("axis", 1)).build());
    before.add(op(n, "Shape", List.of(x), shape));
    return NodeProto.newBuilder()
        .setOpType("Reshape")
        .setName(fresh(n, "reshape"))
        .addInput(out)
        .addInput(shape)
        .addOutput(n.getOutput(0))
        .build();
  }

  /**
   * Scan-8 scans axis 1 of inputs that all carry a batch axis 0, with optional per-batch lengths;
   * from 9 on there is no batch. Without lengths it is a Loop over the batch whose body slices
   * every input at the batch index and runs a Scan-9 on the slices; the Loop stacks the results on
   * axis 0, where Scan-8 had them.
   */
  private NodeProto scan8(NodeProto n) {
    if (n.getInputCount() > 0 && !n.getInput(0).isEmpty()) {
      throw refuse(n, "has sequence_lens (batches of different lengths, the opset-8 form)");
    }
    List<String> ins = n.getInputList().subList(1, n.getInputCount());
    if (ins.isEmpty()) {
      throw refuse(n, "has no inputs");
    }
    GraphProto body = need(n, "body").getG(); // already rewritten by subgraphs()
    String shape = fresh(n, "batch_shape");
    String batch = fresh(n, "batch");
    before.add(op(n, "Shape", List.of(ins.get(0)), shape));
    String zero = constInts(n, "zero", new long[] {0}, true);
    before.add(op(n, "Gather", List.of(shape, zero), batch));

    GraphProto.Builder lb = GraphProto.newBuilder().setName(fresh(n, "batch_body"));
    String iter = fresh(n, "b");
    String condIn = fresh(n, "cond_in");
    String condOut = fresh(n, "cond_out");
    lb.addInput(scalarInfo(iter, TensorProto.DataType.INT64_VALUE));
    lb.addInput(scalarInfo(condIn, TensorProto.DataType.BOOL_VALUE));
    NodeProto.Builder scan = n.toBuilder().clearInput().clearOutput().clearAttribute();
    scan.setName(fresh(n, "scan"));
    for (String in : ins) {
      String slice = fresh(n, in + "_slice");
      lb.addNode(
          op(n, "Gather", List.of(in, iter), slice).toBuilder().addAttribute(intAttr("axis", 0)));
      scan.addInput(slice);
    }
    lb.addOutput(ValueInfoProto.newBuilder().setName(condOut).setType(scalarType(9)));
    for (AttributeProto a : n.getAttributeList()) {
      scan.addAttribute(
          a.getName().equals("directions")
              ? a.toBuilder().setName("scan_input_directions").build()
              : a);
    }
    for (int i = 0; i < n.getOutputCount(); i++) {
      String o = fresh(n, "per_batch_" + i);
      scan.addOutput(o);
      ValueInfoProto.Builder info = ValueInfoProto.newBuilder().setName(o);
      if (i < body.getOutputCount() && body.getOutput(i).getType().hasTensorType()) {
        int et = body.getOutput(i).getType().getTensorType().getElemType();
        info.setType(
            TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(et)));
      }
      lb.addOutput(info);
    }
    lb.addNode(scan);
    lb.addNode(op(n, "Identity", List.of(condIn), condOut));
    return NodeProto.newBuilder()
        .setOpType("Loop")
        .setName(n.getName())
        .addInput(batch)
        .addInput("")
        .addAllOutput(n.getOutputList())
        .addAttribute(
            AttributeProto.newBuilder()
                .setName("body")
                .setType(AttributeType.GRAPH)
                .setG(lb.build()))
        .build();
  }

  private static boolean isNearest(NodeProto n) {
    AttributeProto mode = attr(n, "mode");
    return mode == null || mode.getS().toStringUtf8().equals("nearest");
  }

  @Override
  String advice() {
    return "convert the model to opset "
        + OnnxVersions.OPSET
        + " (onnx.version_converter) before importing";
  }
}
