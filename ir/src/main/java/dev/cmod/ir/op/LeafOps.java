package dev.cmod.ir.op;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.tensor.Tensor;
import java.util.List;

/**
 * The leaves: model inputs, parameters and constants. They have no operands and no inference, since
 * {@link Graph#addInput}, {@link Graph#addParam} and {@link Graph#addConst} give their type; the
 * interpreter reads them instead of running a kernel.
 */
public final class LeafOps {
  /** An input's name (the key of the interpreter's and the runtime's input map). */
  public static final AttrSpec<String> NAME = AttrSpec.text("name");

  /** A parameter's path in the weights ("encoder.0.w"). */
  public static final AttrSpec<String> PATH = AttrSpec.text("path");

  /** The value of a parameter or constant. */
  public static final AttrSpec<Tensor> VALUE = AttrSpec.tensor("value");

  /** Whether a parameter is trained (frozen parameters are not). */
  public static final AttrSpec<Boolean> TRAINABLE = AttrSpec.bool("trainable", true);

  /**
   * Whether a parameter's value is only a default that a run may replace (a run-time adapter's
   * factor: an ONNX graph input with an initializer of the same name). Passes treat such a
   * parameter like an input: nothing is folded through it.
   */
  public static final AttrSpec<Boolean> OVERRIDABLE = AttrSpec.bool("overridable", false);

  private static final String GIVEN = "a leaf's type is given when it is added to the graph";

  private LeafOps() {}

  static List<OpDef> defs() {
    return List.of(
        OpDef.of(Op.INPUT, Family.LEAF).attrs(NAME).flops(Flops.NONE).leaf(GIVEN),
        OpDef.of(Op.PARAM, Family.LEAF)
            .attrs(PATH, VALUE, TRAINABLE, OVERRIDABLE)
            .flops(Flops.NONE)
            .params(a -> VALUE.get(a).size())
            .leaf(GIVEN),
        OpDef.of(Op.CONST, Family.LEAF).attrs(VALUE).flops(Flops.NONE).leaf(GIVEN));
  }
}
