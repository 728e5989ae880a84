package dev.cmod.ir.op;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.OnnxRegion;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;

/**
 * The opaque tier of import: {@code onnx_region} carries a piece of an ONNX model that the importer
 * does not raise into the IR. Its types cannot be inferred from an operator definition, so they are
 * the boundary types the importer recorded in the region; inference only checks that the operands
 * still fit them. Its cost is unknown to cmod and counted as zero.
 */
public final class OpaqueOps {
  /** The region: its serialized ONNX model and its boundary. */
  public static final AttrSpec<OnnxRegion> REGION = AttrSpec.region("region");

  private OpaqueOps() {}

  static List<OpDef> defs() {
    return List.of(
        OpDef.of(Op.ONNX_REGION, Family.OPAQUE)
            .variadic("inputs")
            .attrs(REGION)
            .flops(Flops.NONE)
            .infer(OpaqueOps::region));
  }

  private static List<TensorType> region(Attrs a, List<TensorType> in) {
    OnnxRegion r = REGION.get(a);
    if (in.size() != r.inputTypes().size()) {
      throw new ShapeException(
          "onnx_region takes " + r.inputTypes().size() + " operands, got " + in.size());
    }
    for (int i = 0; i < in.size(); i++) {
      TensorType want = r.inputTypes().get(i);
      TensorType have = in.get(i);
      boolean ok = want.dtype() == have.dtype() && want.rank() == have.rank();
      for (int d = 0; ok && d < want.rank(); d++) {
        Dim w = want.dim(d);
        Dim h = have.dim(d);
        ok = !w.isKnown() || !h.isKnown() || w.value() == h.value();
      }
      if (!ok) {
        throw new ShapeException(
            "onnx_region input '" + r.inputNames().get(i) + "' needs " + want + ", got " + have);
      }
    }
    return r.outputTypes();
  }
}
