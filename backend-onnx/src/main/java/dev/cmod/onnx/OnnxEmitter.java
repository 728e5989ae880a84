package dev.cmod.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.cmod.ir.graph.Graph;
import dev.cmod.onnx.emit.GraphEmitter;

/**
 * Lowers an IR graph to a serialized ONNX model.
 *
 * <p>Inputs keep their names; parameters become initializers named by their path, constants
 * initializers named {@code const_<id>}; every other node becomes one or more ONNX nodes named
 * {@code n<id>_<op>} (helpers get a suffix) whose values are named {@code v<id>} / {@code
 * v<id>_<k>} and whose doc_string is the node's source location. Symbolic dims in attributes are
 * computed at runtime from the shapes of the inputs that bind them. The output is deterministic:
 * the same graph always gives the same bytes.
 */
public final class OnnxEmitter {
  private OnnxEmitter() {}

  /** Emits {@code g} as a serialized ONNX ModelProto. */
  public static byte[] emit(Graph g, EmitOptions opts) {
    return build(g, opts).toByteArray();
  }

  /**
   * The fusion rules the emitter applies to {@code g} for target {@code t}, with how often each
   * matches (for {@code cmod explain}).
   */
  public static java.util.Map<String, Integer> fusions(Graph g, Target t) {
    return fusions(g, t, Precision.F32);
  }

  /** {@link #fusions(Graph, Target)} in the artifact of precision {@code p}. */
  public static java.util.Map<String, Integer> fusions(Graph g, Target t, Precision p) {
    return GraphEmitter.fusions(g, t, p);
  }

  /**
   * What {@code --precision f16} makes of {@code g} for target {@code t}, as one line: the ops in
   * f16, the ops kept f32 by kind, the casts, and the parameters stored in each precision.
   */
  public static String halfPrecisionSummary(Graph g, Target t) {
    return GraphEmitter.halfPrecisionSummary(g, t);
  }

  /**
   * The IR graph a {@code --precision f16} artifact for target {@code t} is emitted from (its f16
   * nodes, f32 islands and casts): the reference interpreter, which rounds every f16 result, runs
   * it as a device whose every f16 kernel rounds its output would.
   */
  public static Graph halfPrecisionGraph(Graph g, Target t) {
    return GraphEmitter.halfPrecisionGraph(g, t);
  }

  /** Emits {@code g} as a ModelProto message. */
  public static ModelProto build(Graph g, EmitOptions opts) {
    return GraphEmitter.build(g, opts);
  }
}
