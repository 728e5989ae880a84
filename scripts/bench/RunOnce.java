import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * One ONNX model with one f32 input of a fixed shape, in a process of its own: W untimed runs, then
 * N timed runs on one thread; prints "p50_ms peak_rss_kib", the median latency and the process's
 * peak resident memory (VmHWM) after the runs, so that memory of one model at one size is measured
 * alone. Used by scripts/bench/reduced_image.sh.
 *
 * <p>Run: java -cp "cli/target/lib/*" scripts/bench/RunOnce.java MODEL.onnx INPUT d0,d1,.. W N
 */
public class RunOnce {
  public static void main(String[] a) throws Exception {
    long[] shape = Arrays.stream(a[2].split(",")).mapToLong(Long::parseLong).toArray();
    int warm = Integer.parseInt(a[3]);
    int n = Integer.parseInt(a[4]);
    float[] x = new float[(int) Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
    java.util.Random r = new java.util.Random(1);
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    double[] t = new double[n];
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setIntraOpNumThreads(1);
      so.setInterOpNumThreads(1);
      try (OrtSession s = env.createSession(Files.readAllBytes(Path.of(a[0])), so);
          OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape)) {
        for (int i = -warm; i < n; i++) {
          long t0 = System.nanoTime();
          try (OrtSession.Result res = s.run(Map.of(a[1], in))) {
            if (i >= 0) {
              t[i] = (System.nanoTime() - t0) / 1e6;
            }
          }
        }
      }
    }
    Arrays.sort(t);
    String hwm =
        Files.readAllLines(Path.of("/proc/self/status")).stream()
            .filter(l -> l.startsWith("VmHWM:"))
            .map(l -> l.replaceAll("[^0-9]", ""))
            .findFirst()
            .orElse("0");
    System.out.printf(Locale.ROOT, "%.4f %s%n", t[n / 2], hwm);
  }
}
