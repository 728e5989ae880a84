import dev.cmod.cli.Toolchain;
import dev.cmod.cli.serve.InferenceServer;
import dev.cmod.cli.serve.ModelRunner;
import dev.cmod.cli.serve.ModelSignature;
import dev.cmod.cli.serve.ServeLoad;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxImports;
import dev.cmod.onnx.OnnxRunner;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * cmod serve under load against direct ONNX Runtime runs in the same process: compiles FILE.cmod,
 * serves it on the loopback address (batching up to MAX_BATCH rows), sends REQUESTS one-row
 * requests with seeded random inputs from CLIENTS threads, then runs the same inputs directly on
 * a session with the same thread count; prints both and appends a table row to OUT.md when given.
 *
 * <p>Run: java -cp "cli/target/cmod-cli-0.1.0-SNAPSHOT.jar:cli/target/lib/*"
 * scripts/ServeBench.java FILE.cmod REQUESTS CLIENTS MAX_BATCH THREADS [OUT.md]
 */
public class ServeBench {
  public static void main(String[] a) throws Exception {
    Path file = Path.of(a[0]);
    int requests = Integer.parseInt(a[1]);
    int clients = Integer.parseInt(a[2]);
    int maxBatch = Integer.parseInt(a[3]);
    int threads = Integer.parseInt(a[4]);
    CompileOptions o =
        CompileOptions.defaults().withOptLevel(2).withOnnxImports(OnnxImports.SERVICE);
    Toolchain.Compiled c = Toolchain.compile(file, o);
    if (!c.ok()) {
      throw new IllegalStateException(file + " does not compile");
    }
    ModelSignature sig = ModelSignature.of(c.model());
    Map<String, Long> sizes = Toolchain.defaultSizes(c.result().graph(), c.result().facts());
    sizes.put("batch", 1L);
    List<Map<String, Tensor>> feeds = new ArrayList<>();
    List<byte[]> bodies = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      Map<String, Tensor> f =
          Toolchain.randomInputs(c.result().graph(), c.result().facts(), sizes, i);
      feeds.add(f);
      bodies.add(body(f, sig));
    }
    OnnxRunner session = OnnxRunner.open(c.onnx(), OnnxRunner.Device.CPU, threads);
    InferenceServer s =
        InferenceServer.start(
            "m",
            sig,
            ModelRunner.of(session),
            Set.of(),
            new InferenceServer.Config("127.0.0.1", 0, maxBatch, 2, 256, 64 << 20, 30_000),
            System.err::println);
    URI infer = URI.create(s.uri() + "/v2/models/m/infer");
    ServeLoad.Result served;
    ServeLoad.Result direct;
    try (OnnxRunner alone = OnnxRunner.open(c.onnx(), OnnxRunner.Device.CPU, threads)) {
      ModelRunner baseline = ModelRunner.of(alone);
      ServeLoad.overHttp(infer, i -> bodies.get(i % 256), clients, Math.max(200, requests / 10));
      ServeLoad.direct(baseline, i -> feeds.get(i % 256), clients, Math.max(200, requests / 10));
      long runs0 = s.batcher().runs();
      long reqs0 = s.batcher().requests();
      served = ServeLoad.overHttp(infer, i -> bodies.get(i % 256), clients, requests);
      double perRun = (s.batcher().requests() - reqs0) / (double) (s.batcher().runs() - runs0);
      direct = ServeLoad.direct(baseline, i -> feeds.get(i % 256), clients, requests);
      String row =
          String.format(
              Locale.ROOT,
              "| %s | %s | %d x %d clients | %d | %.0f | %.2f | %.2f | %.1f | %.0f | %.3f | %.3f |",
              LocalDate.now(),
              file.getFileName(),
              requests,
              clients,
              maxBatch,
              served.throughput(),
              served.quantileMillis(0.5),
              served.quantileMillis(0.99),
              perRun,
              direct.throughput(),
              direct.quantileMillis(0.5),
              direct.quantileMillis(0.99));
      System.out.println("served: " + served.summary());
      System.out.println("direct: " + direct.summary());
      System.out.println(row);
      if (served.failures() > 0) {
        System.out.println("FAILED requests: " + served.failures());
      }
      if (a.length > 5) {
        Files.writeString(
            Path.of(a[5]),
            row + "\n",
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      }
    } finally {
      s.stop();
    }
  }

  /** A v2 infer body for these tensors (flat data). */
  static byte[] body(Map<String, Tensor> feed, ModelSignature sig) {
    StringBuilder sb = new StringBuilder("{\"inputs\":[");
    boolean first = true;
    for (Map.Entry<String, Tensor> e : feed.entrySet()) {
      Tensor t = e.getValue();
      String dt =
          switch (sig.input(e.getKey()).dtype()) {
            case F32 -> "FP32";
            case I64 -> "INT64";
            default -> throw new IllegalArgumentException("input " + e.getKey() + ": f32 and i64 only");
          };
      sb.append(first ? "" : ",").append("{\"name\":\"").append(e.getKey());
      sb.append("\",\"datatype\":\"").append(dt).append("\",\"shape\":");
      sb.append(java.util.Arrays.toString(t.shape())).append(",\"data\":[");
      for (int i = 0; i < t.size(); i++) {
        sb.append(i > 0 ? "," : "");
        sb.append(t.isFloat() ? Float.toString(t.floats()[i]) : Long.toString(t.longs()[i]));
      }
      sb.append("]}");
      first = false;
    }
    return sb.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }
}
