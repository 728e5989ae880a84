package dev.cmod.ir.op;

import static dev.cmod.ir.op.Shapes.one;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;

/**
 * Routing: a mixture of experts as one structured node. {@code route} takes the gates {@code [...,
 * n]} and the n experts' outputs and means {@code Σ_e y_e · gates[..., e:e+1]}. Elaboration builds
 * it so that passes see the gate, the experts and the mode; at -O2 the compiler's {@code
 * sparse-routing} pass may turn it into sparse dispatch (each expert on its tokens only), and
 * {@code lower-routing} turns every other route into that dense sum before anything else runs.
 */
public final class RoutingOps {
  /** How the gates were made: {@code topk}, {@code soft} or {@code index}. */
  public static final AttrSpec<String> MODE = AttrSpec.text("mode");

  /**
   * The node ids the dense form takes (where elaboration would have built each of its nodes), so
   * that lowering gives the graph a dense elaboration would have made.
   */
  public static final AttrSpec<long[]> IDS = AttrSpec.ints("ids").internal();

  private RoutingOps() {}

  static List<OpDef> defs() {
    return List.of(
        OpDef.of(Op.ROUTE, Family.ROUTING)
            .operands("gates")
            .variadic("experts")
            .attrs(MODE, IDS)
            // the dense form: a multiply per expert and an add between them
            .flops((in, out, size) -> (2.0 * (in.size() - 1) - 1) * Flops.elems(out, size))
            .infer(RoutingOps::route));
  }

  /** The type of the dense form: each expert's output times its gate column, summed. */
  private static List<TensorType> route(Attrs a, List<TensorType> in) {
    int gl = in.get(0).rank() - 1;
    TensorType acc = null;
    for (int e = 1; e < in.size(); e++) {
      Attrs slice = Attrs.of("axis", gl, "start", Dim.of(e - 1), "end", Dim.of(e));
      TensorType g = OpDefs.of(Op.SLICE).infer(slice, List.of(in.get(0))).get(0);
      TensorType term = OpDefs.of(Op.MUL).infer(Attrs.NONE, List.of(in.get(e), g)).get(0);
      acc = acc == null ? term : OpDefs.of(Op.ADD).infer(Attrs.NONE, List.of(acc, term)).get(0);
    }
    return one(acc);
  }
}
