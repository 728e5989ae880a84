package dev.cmod.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.tensor.Tensor;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What ONNX Runtime 1.29's CPU provider does with {@code com.microsoft} MoE, the operator a {@code
 * --target ort} lowering of top-k routes would emit: it runs, and a two-layer expert MLP with a
 * bias per layer computes, per token, the top-k of softmax(router input) renormalized to sum 1
 * ({@code normalize_routing_weights = 1}) times each chosen expert's fc2(act(fc1(x))), with the
 * weights stored as nn.Linear does, [experts, out, in]. Pinned here against a hand computation so
 * that a lowering can rely on it (docs/benchmarks.md, "com.microsoft MoE").
 */
class OrtMoeProbeTest {
  private static final int E = 4;
  private static final int H = 8;
  private static final int I = 16;
  private static final int N = 5;
  private static final int K = 2;

  @Test
  void moeIsSoftmaxTopKRenormalizedOverTwoLayerExperts() {
    assertTrue(diff("relu", h -> Math.max(h, 0)) < 1e-4);
    assertTrue(diff("silu", h -> h / (1 + Math.exp(-h))) < 1e-4);
  }

  /**
   * Its "gelu" is the tanh approximation, not the exact (erf) GELU of the IR's default: a lowering
   * of erf-GELU experts must not use it.
   */
  @Test
  void itsGeluIsTheTanhApproximation() {
    double tanh =
        diff(
            "gelu",
            h -> 0.5 * h * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (h + 0.044715 * h * h * h))));
    double exact = diff("gelu", h -> 0.5 * h * (1 + erf(h / Math.sqrt(2))));
    assertTrue(tanh < 1e-4 && exact > 10 * tanh, "tanh GELU: " + tanh + ", exact: " + exact);
  }

  /** erf from the Chebyshev fit of erfc in Numerical Recipes (absolute error below 1.2e-7). */
  private static double erf(double z) {
    double t = 1 / (1 + 0.5 * Math.abs(z));
    double y =
        1
            - t
                * Math.exp(
                    -z * z
                        - 1.26551223
                        + t
                            * (1.00002368
                                + t
                                    * (0.37409196
                                        + t
                                            * (0.09678418
                                                + t
                                                    * (-0.18628806
                                                        + t
                                                            * (0.27886807
                                                                + t
                                                                    * (-1.13520398
                                                                        + t
                                                                            * (1.48851587
                                                                                + t
                                                                                    * (-0.82215223
                                                                                        + t
                                                                                            * 0.17087277)))))))));
    return z >= 0 ? y : -y;
  }

  /** The largest difference between MoE with {@code activation} and the hand computation. */
  private static double diff(String activation, java.util.function.DoubleUnaryOperator act) {
    Random r = new Random(3);
    float[] w1 = gauss(r, E * I * H); // [E, I, H]: fc1 of expert e maps H to I
    float[] b1 = gauss(r, E * I);
    float[] w2 = gauss(r, E * H * I); // [E, H, I]
    float[] b2 = gauss(r, E * H);
    float[] x = gauss(r, N * H);
    float[] logits = gauss(r, N * E);
    byte[] model = model(activation, w1, b1, w2, b2);
    Map<String, Tensor> out;
    try (OnnxRunner run = OnnxRunner.open(model, OnnxRunner.Device.CPU)) {
      out =
          run.run(
              Map.of(
                  "x", Tensor.ofFloats(new long[] {N, H}, x),
                  "router", Tensor.ofFloats(new long[] {N, E}, logits)));
    }
    float[] y = out.get("y").floats();
    double max = 0;
    for (int n = 0; n < N; n++) {
      double[] p = new double[E];
      double sum = 0;
      for (int e = 0; e < E; e++) {
        p[e] = Math.exp(logits[n * E + e]);
        sum += p[e];
      }
      int[] top = topK(p);
      double norm = 0;
      for (int t : top) {
        norm += p[t] / sum;
      }
      for (int c = 0; c < H; c++) {
        double acc = 0;
        for (int t : top) {
          double out2 = b2[t * H + c];
          for (int j = 0; j < I; j++) {
            double h = b1[t * I + j];
            for (int d = 0; d < H; d++) {
              h += (double) w1[(t * I + j) * H + d] * x[n * H + d];
            }
            out2 += act.applyAsDouble(h) * w2[(t * H + c) * I + j];
          }
          acc += p[t] / sum / norm * out2;
        }
        max = Math.max(max, Math.abs(acc - y[n * H + c]));
      }
    }
    return max;
  }

  private static int[] topK(double[] p) {
    int[] top = new int[K];
    boolean[] taken = new boolean[p.length];
    for (int k = 0; k < K; k++) {
      int best = -1;
      for (int e = 0; e < p.length; e++) {
        if (!taken[e] && (best < 0 || p[e] > p[best])) {
          best = e;
        }
      }
      taken[best] = true;
      top[k] = best;
    }
    return top;
  }

  private static float[] gauss(Random r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  private static byte[] model(String activation, float[] w1, float[] b1, float[] w2, float[] b2) {
    NodeProto moe =
        NodeProto.newBuilder()
            .setOpType("MoE")
            .setDomain("com.microsoft")
            .addInput("x")
            .addInput("router")
            .addInput("w1")
            .addInput("b1")
            .addInput("w2")
            .addInput("b2")
            .addOutput("y")
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("activation_type")
                    .setType(AttributeProto.AttributeType.STRING)
                    .setS(com.google.protobuf.ByteString.copyFromUtf8(activation)))
            .addAttribute(integer("k", K))
            .addAttribute(integer("normalize_routing_weights", 1))
            .build();
    GraphProto g =
        GraphProto.newBuilder()
            .setName("moe")
            .addNode(moe)
            .addInitializer(floats("w1", w1, E, I, H))
            .addInitializer(floats("b1", b1, E, I))
            .addInitializer(floats("w2", w2, E, H, I))
            .addInitializer(floats("b2", b2, E, H))
            .addInput(info("x", N, H))
            .addInput(info("router", N, E))
            .addOutput(info("y", N, H))
            .build();
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1))
        .setGraph(g)
        .build()
        .toByteArray();
  }

  private static AttributeProto integer(String name, long v) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(v)
        .build();
  }

  private static TensorProto floats(String name, float[] v, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1);
    for (long d : dims) {
      t.addDims(d);
    }
    for (float f : v) {
      t.addFloatData(f);
    }
    return t.build();
  }

  private static ValueInfoProto info(String name, long... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(s)))
        .build();
  }
}
