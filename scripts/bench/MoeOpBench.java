import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.cmod.cli.Main;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * What a {@code --target ort} lowering of routed experts to ONNX Runtime's {@code com.microsoft}
 * MoE would gain, measured before writing it: scripts/bench/moe_relu_top2_of_8.cmod (top-2 of 8
 * two-layer ReLU experts, the form MoE computes exactly) compiled at -O2 dense ({@code
 * --disable-pass=sparse-routing}) and sparse (cmod's dispatch), against one hand-built ONNX model
 * of the same weights (the router's MatMul, then MoE with k = 2 and normalize_routing_weights = 1,
 * the expert weights stacked as [experts, out, in]). Outputs are compared with dense first; the
 * contenders run interleaved at ALL, 1 and 2 threads.
 *
 * <p>Usage (from the repository root, after {@code mvn -o package -Dmaven.test.skip=true -pl cli
 * -am}): {@code java -cp "cli/target/cmod-cli-0.1.0-SNAPSHOT.jar:cli/target/lib/*"
 * scripts/bench/MoeOpBench.java [SEQ] [ROUNDS]} (defaults 128, 200).
 */
public class MoeOpBench {
  private static final String SRC = "scripts/bench/moe_relu_top2_of_8.cmod";
  private static final int D = 256;
  private static final int HIDDEN = 1024;
  private static final int N = 8;

  public static void main(String[] args) throws Exception {
    int seq = args.length > 0 ? Integer.parseInt(args[0]) : 128;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    Path tmp = Files.createTempDirectory("moe-op-bench");
    Map<String, byte[]> models = new LinkedHashMap<>();
    Path dense = tmp.resolve("dense.onnx");
    Path sparse = tmp.resolve("sparse.onnx");
    Path weights = tmp.resolve("w.safetensors");
    cmod("compile", SRC, "-O2", "--disable-pass=sparse-routing", "-o", dense.toString());
    cmod("compile", SRC, "-O2", "-o", sparse.toString());
    cmod("export-weights", SRC, "-o", weights.toString());
    models.put("dense (-O2, sparse-routing disabled)", Files.readAllBytes(dense));
    models.put("cmod -O2 (sparse dispatch)", Files.readAllBytes(sparse));
    models.put("com.microsoft MoE, same weights", moe(Safetensors.read(weights)));

    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[] x = new float[seq * D];
    Random r = new Random(1);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    long[] shape = {1, seq, D};
    System.out.printf(Locale.ROOT, "batch 1, seq %d, d %d, %d interleaved rounds%n", seq, D, rounds);
    System.out.println("| threads | contender | p50 | p90 | min | p50 / dense | p50 / sparse |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (int threads : new int[] {1, 2}) {
      List<String> names = new ArrayList<>(models.keySet());
      List<OrtSession> sessions = new ArrayList<>();
      for (String name : names) {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        sessions.add(env.createSession(models.get(name), so));
      }
      try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape)) {
        float[] ref = run(sessions.get(0), in);
        for (int i = 1; i < sessions.size() && threads == 1; i++) {
          float[] y = run(sessions.get(i), in);
          double worst = 0;
          for (int j = 0; j < y.length; j++) {
            worst = Math.max(worst, Math.abs(y[j] - ref[j]));
          }
          System.out.printf(Locale.ROOT, "(%s vs dense: max |diff| %.2e)%n", names.get(i), worst);
        }
        double[][] t = new double[sessions.size()][rounds];
        for (int w = 0; w < 20; w++) {
          for (OrtSession s : sessions) {
            run(s, in);
          }
        }
        for (int k = 0; k < rounds; k++) {
          for (int i = 0; i < sessions.size(); i++) {
            long t0 = System.nanoTime();
            run(sessions.get(i), in);
            t[i][k] = (System.nanoTime() - t0) / 1e6;
          }
        }
        for (int i = 0; i < sessions.size(); i++) {
          System.out.printf(
              Locale.ROOT,
              "| %d | %s | %.3f ms | %.3f ms | %.3f ms | %.2f | %.2f |%n",
              threads,
              names.get(i),
              pct(t[i], 0.5),
              pct(t[i], 0.9),
              pct(t[i], 0),
              pct(t[i], 0.5) / pct(t[0], 0.5),
              pct(t[i], 0.5) / pct(t[1], 0.5));
        }
      }
      for (OrtSession s : sessions) {
        s.close();
      }
    }
  }

  /** The router's MatMul and one MoE node over the program's weights, input x [b, s, D]. */
  private static byte[] moe(Map<String, Tensor> w) {
    float[] w1 = new float[N * HIDDEN * D];
    float[] b1 = new float[N * HIDDEN];
    float[] w2 = new float[N * D * HIDDEN];
    float[] b2 = new float[N * D];
    for (int e = 0; e < N; e++) {
      float[] up = w.get("experts." + e + ".up.weight").floats(); // [D, HIDDEN]
      float[] down = w.get("experts." + e + ".down.weight").floats(); // [HIDDEN, D]
      for (int i = 0; i < D; i++) {
        for (int j = 0; j < HIDDEN; j++) {
          w1[(e * HIDDEN + j) * D + i] = up[i * HIDDEN + j];
          w2[(e * D + i) * HIDDEN + j] = down[j * D + i];
        }
      }
      System.arraycopy(w.get("experts." + e + ".up.bias").floats(), 0, b1, e * HIDDEN, HIDDEN);
      System.arraycopy(w.get("experts." + e + ".down.bias").floats(), 0, b2, e * D, D);
    }
    // MoE takes the router's output as [rows, experts]: the tokens are flattened, and restored
    NodeProto flat =
        NodeProto.newBuilder()
            .setOpType("Reshape")
            .addInput("x")
            .addInput("rows")
            .addOutput("xf")
            .build();
    NodeProto router =
        NodeProto.newBuilder()
            .setOpType("MatMul")
            .addInput("xf")
            .addInput("router")
            .addOutput("logits")
            .build();
    NodeProto shape = NodeProto.newBuilder().setOpType("Shape").addInput("x").addOutput("xs").build();
    NodeProto back =
        NodeProto.newBuilder()
            .setOpType("Reshape")
            .addInput("yf")
            .addInput("xs")
            .addOutput("y")
            .build();
    NodeProto moe =
        NodeProto.newBuilder()
            .setOpType("MoE")
            .setDomain("com.microsoft")
            .addAllInput(List.of("xf", "logits", "w1", "b1", "w2", "b2"))
            .addOutput("yf")
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("activation_type")
                    .setType(AttributeProto.AttributeType.STRING)
                    .setS(ByteString.copyFromUtf8("relu")))
            .addAttribute(integer("k", 2))
            .addAttribute(integer("normalize_routing_weights", 1))
            .build();
    GraphProto g =
        GraphProto.newBuilder()
            .setName("moe")
            .addNode(flat)
            .addNode(router)
            .addNode(moe)
            .addNode(shape)
            .addNode(back)
            .addInitializer(
                TensorProto.newBuilder()
                    .setName("rows")
                    .setDataType(7)
                    .addDims(2)
                    .addInt64Data(-1)
                    .addInt64Data(D))
            .addInitializer(floats("router", w.get("Router_0.weight").floats(), D, N))
            .addInitializer(floats("w1", w1, N, HIDDEN, D))
            .addInitializer(floats("b1", b1, N, HIDDEN))
            .addInitializer(floats("w2", w2, N, D, HIDDEN))
            .addInitializer(floats("b2", b2, N, D))
            .addInput(info("x"))
            .addOutput(info("y"))
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
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    TensorProto.Builder t =
        TensorProto.newBuilder().setName(name).setDataType(1).setRawData(ByteString.copyFrom(b));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  /** f32[batch, seq, D]. */
  private static ValueInfoProto info(String name) {
    TensorShapeProto s =
        TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
            .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("seq"))
            .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(D))
            .build();
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(s)))
        .build();
  }

  private static float[] run(OrtSession s, OnnxTensor in) throws Exception {
    try (OrtSession.Result res = s.run(Map.of("x", in), java.util.Set.of("y"))) {
      return ((OnnxTensor) res.get(0)).getFloatBuffer().array();
    }
  }

  private static double pct(double[] v, double q) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[(int) Math.min(s.length - 1, Math.floor(q * s.length))];
  }

  private static void cmod(String... args) {
    if (Main.execute(args) != 0) {
      throw new IllegalStateException("cmod " + String.join(" ", args) + " failed");
    }
  }
}
