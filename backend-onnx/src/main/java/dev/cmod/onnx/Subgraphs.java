package dev.cmod.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.function.UnaryOperator;

/**
 * The one walk over a node's subgraph attributes ({@code If} branches, {@code Loop} and {@code
 * Scan} bodies, and any graph-valued or graphs-valued attribute), shared by the passes that rewrite
 * ONNX graphs with their subgraphs: inlining a region, rewriting it to another opset, feeding
 * unsigned inputs.
 */
public final class Subgraphs {
  private Subgraphs() {}

  /** Whether {@code n} has a subgraph attribute. */
  public static boolean has(NodeProto n) {
    return n.getAttributeList().stream().anyMatch(a -> a.hasG() || a.getGraphsCount() > 0);
  }

  /**
   * Sets on {@code b} (a builder of {@code n}) every subgraph attribute of {@code n} mapped by f.
   */
  public static void map(NodeProto n, NodeProto.Builder b, UnaryOperator<GraphProto> f) {
    for (int i = 0; i < n.getAttributeCount(); i++) {
      AttributeProto a = n.getAttribute(i);
      if (a.hasG() || a.getGraphsCount() > 0) {
        AttributeProto.Builder ab = a.toBuilder();
        if (a.hasG()) {
          ab.setG(f.apply(a.getG()));
        }
        ab.clearGraphs();
        a.getGraphsList().forEach(g -> ab.addGraphs(f.apply(g)));
        b.setAttribute(i, ab);
      }
    }
  }
}
