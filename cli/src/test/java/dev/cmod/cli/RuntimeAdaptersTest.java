package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtLoraAdapter;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxAdapterFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Run-time adapters end to end on ONNX Runtime: a model with LoRA on two layers and IA³ on one,
 * compiled once with {@code --adapters runtime}, with three adapters (one giving only some
 * factors). Each adapter file applied by {@code cmod run --adapter} gives the outputs of the merged
 * (-O2) compilation with that adapter's values as weights; no adapter gives the base model; the
 * stacked layout gives each example of a mixed batch its adapter's outputs; wrong names and shapes
 * are refused with CM0640 / CM0641 when the file is written and when it is loaded; and the files
 * are read back by ONNX Runtime's own {@code OrtLoraAdapter} and by a FlatBuffers reader written
 * here from the schema, independent of cmod's.
 */
class RuntimeAdaptersTest extends CommandLineHarness {
  static final String MODEL =
      "import std.nn.{Mlp}\n"
          + "model Tuned {\n"
          + "  input x: f32[6]\n"
          + "  input s: f32[seq, 6]\n"
          + "  let base = Mlp(6, 8)\n"
          + "  let tuned = base with lora(rank = 2, alpha = 4) on \"up\", \"down\"\n"
          + "  let scaled = tuned with ia3 on \"up\"\n"
          + "  output y: f32[6] = scaled(x)\n"
          + "  output z: f32[seq, 6] = scaled(s)\n"
          + "}\n";

  static final Map<String, long[]> FACTORS = new LinkedHashMap<>();

  static {
    FACTORS.put("base.up.weight.lora_a", new long[] {6, 2});
    FACTORS.put("base.up.weight.lora_b", new long[] {2, 8});
    FACTORS.put("base.down.weight.lora_a", new long[] {8, 2});
    FACTORS.put("base.down.weight.lora_b", new long[] {2, 6});
    FACTORS.put("base.up.weight.ia3", new long[] {8});
  }

  @TempDir Path dir;
  Path model;
  final List<Path> adapterWeights = new java.util.ArrayList<>();

  @BeforeEach
  void setUp() {
    model = dir.resolve("tuned.cmod");
    write(model, MODEL);
    for (int i = 0; i < 3; i++) {
      Map<String, Tensor> w = new LinkedHashMap<>();
      Random rng = new Random(100 + i);
      for (Map.Entry<String, long[]> e : FACTORS.entrySet()) {
        if (i == 2 && !e.getKey().startsWith("base.up.weight.lora")) {
          continue; // the third adapter gives the up projection's LoRA only
        }
        w.put(e.getKey(), random(rng, e.getValue()));
      }
      Path p = dir.resolve("style" + i + ".safetensors");
      Safetensors.write(p, w, Map.of());
      adapterWeights.add(p);
    }
  }

  @Test
  void eachAdapterFileGivesTheMergedCompilationsOutputs() throws Exception {
    compileBase();
    Map<String, Path> inputs = inputs(3);
    for (int i = 0; i < 3; i++) {
      Path merged = dir.resolve("merged" + i + ".onnx");
      assertEquals(
          0,
          run(
              "compile",
              model.toString(),
              "--weights",
              adapterWeights.get(i).toString(),
              "-o",
              merged.toString()),
          err());
      Map<String, Tensor> want = runModel(merged, inputs, null);
      Map<String, Tensor> got =
          runModel(dir.resolve("base.onnx"), inputs, dir.resolve("ad/style" + i + ".onnx_adapter"));
      assertTrue(out().contains("adapter style" + i), out());
      assertClose(want, got, 1e-5);
      if (i == 0) {
        Map<String, Tensor> none = runModel(dir.resolve("base.onnx"), inputs, null);
        assertFalse(maxDiff(none.get("y"), got.get("y")) < 1e-3, "the adapter changes y");
      }
    }
    // no adapter: the base model, as the merged compilation without adapter values gives it
    Path plain = dir.resolve("plain.onnx");
    assertEquals(0, run("compile", model.toString(), "-o", plain.toString()), err());
    assertClose(
        runModel(plain, inputs, null), runModel(dir.resolve("base.onnx"), inputs, null), 1e-6);
  }

  @Test
  void theBaseArtifactKeepsTheFactorsAsInputsWithDefaults() throws Exception {
    compileBase();
    ai.onnx.proto.OnnxMl.ModelProto m =
        ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(dir.resolve("base.onnx")));
    List<String> inputs = m.getGraph().getInputList().stream().map(v -> v.getName()).toList();
    List<String> inits = m.getGraph().getInitializerList().stream().map(t -> t.getName()).toList();
    for (String f : FACTORS.keySet()) {
      assertTrue(inputs.contains(f), f + " is a graph input: " + inputs);
      assertTrue(inits.contains(f), f + " has its default as an initializer");
    }
    String iface =
        m.getMetadataPropsList().stream()
            .filter(p -> p.getKey().equals("cmod.adapters"))
            .findFirst()
            .orElseThrow()
            .getValue();
    dev.cmod.ir.graph.AdapterInterface a = dev.cmod.ir.graph.AdapterInterface.parse(iface);
    assertEquals("runtime", a.mode());
    assertEquals(FACTORS.keySet(), new java.util.LinkedHashSet<>(namesOf(a)));
    for (dev.cmod.ir.graph.AdapterInterface.Param p : a.params()) {
      assertArrayEquals(FACTORS.get(p.name()), p.shape(), p.name());
    }
  }

  @Test
  void aMixedBatchGivesEachExampleItsAdaptersOutputs() throws Exception {
    Path stacked = dir.resolve("stacked.onnx");
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "compile",
                model.toString(),
                "--adapters",
                "runtime-stacked",
                "-o",
                stacked.toString()));
    for (int i = 0; i < 3; i++) {
      args.add("--adapter-weights");
      args.add("style" + i + "=" + adapterWeights.get(i));
    }
    assertEquals(0, run(args.toArray(new String[0])), err());
    long[] index = {2, 0, 1, 1};
    Map<String, Path> inputs = inputs(index.length);
    Path idx = dir.resolve("idx.npy");
    Npy.write(idx, Tensor.ofLongs(dev.cmod.ir.type.DType.I64, new long[] {4}, index));
    Map<String, Path> withIndex = new LinkedHashMap<>(inputs);
    withIndex.put("adapter_index", idx);
    Map<String, Tensor> got = runModel(stacked, withIndex, null);
    for (int i = 0; i < 3; i++) {
      Path merged = dir.resolve("m" + i + ".onnx");
      assertEquals(
          0,
          run(
              "compile",
              model.toString(),
              "--weights",
              adapterWeights.get(i).toString(),
              "-o",
              merged.toString()),
          err());
      Map<String, Tensor> want = runModel(merged, inputs, null);
      for (int row = 0; row < index.length; row++) {
        if (index[row] != i) {
          continue;
        }
        for (String out : List.of("y", "z")) {
          assertTrue(
              maxDiff(row(want.get(out), row), row(got.get(out), row)) <= 1e-5,
              out + " row " + row + " runs adapter " + i);
        }
      }
    }
  }

  @Test
  void wrongShapesAndNamesAreRefusedWhenWrittenAndWhenLoaded() throws Exception {
    Path bad = dir.resolve("bad.safetensors");
    Safetensors.write(
        bad, Map.of("base.up.weight.lora_a", random(new Random(1), new long[] {6, 3})), Map.of());
    assertEquals(
        1,
        run(
            "compile",
            model.toString(),
            "--adapters",
            "runtime",
            "-o",
            dir.resolve("b.onnx").toString(),
            "--adapter-weights",
            "bad=" + bad));
    assertTrue(err().contains("CM0641"), err());
    assertTrue(err().contains("f32[6, 3]") && err().contains("f32[6, 2]"), err());
    assertFalse(Files.exists(dir.resolve("b.onnx")), "nothing is written");

    Path typo = dir.resolve("typo.safetensors");
    Safetensors.write(
        typo, Map.of("base.up.weight.lora_c", random(new Random(1), new long[] {6, 2})), Map.of());
    assertEquals(
        1,
        run(
            "compile",
            model.toString(),
            "--adapters",
            "runtime",
            "-o",
            dir.resolve("b.onnx").toString(),
            "--adapter-weights",
            "typo=" + typo));
    assertTrue(err().contains("CM0640") && err().contains("base.up.weight.lora_a"), err());

    // the same mistakes in .onnx_adapter files made elsewhere, refused by cmod run
    compileBase();
    Map<String, Path> inputs = inputs(2);
    Path wrongShape = dir.resolve("wrong_shape.onnx_adapter");
    Files.write(
        wrongShape,
        OnnxAdapterFile.write(
            Map.of("base.down.weight.lora_b", random(new Random(2), new long[] {3, 6})), 1, 1));
    assertEquals(1, runStatus(dir.resolve("base.onnx"), inputs, wrongShape));
    assertTrue(err().contains("CM0641") && err().contains("base.down.weight.lora_b"), err());
    Path wrongName = dir.resolve("wrong_name.onnx_adapter");
    Files.write(
        wrongName,
        OnnxAdapterFile.write(
            Map.of("base.down.weight.lora", random(new Random(2), new long[] {2, 6})), 1, 1));
    assertEquals(1, runStatus(dir.resolve("base.onnx"), inputs, wrongName));
    assertTrue(err().contains("CM0640"), err());
    Path notAdapter = dir.resolve("not.onnx_adapter");
    write(notAdapter, "hello, this is no adapter");
    assertEquals(1, runStatus(dir.resolve("base.onnx"), inputs, notAdapter));
    assertTrue(err().contains("CM0642"), err());
    // a model compiled without run-time adapters has no interface to check against
    Path plain = dir.resolve("plain.onnx");
    assertEquals(0, run("compile", model.toString(), "-o", plain.toString()), err());
    assertEquals(1, runStatus(plain, inputs, dir.resolve("ad/style0.onnx_adapter")));
    assertTrue(err().contains("CM0642") && err().contains("--adapters runtime"), err());
  }

  @Test
  void stackedAdaptersAreCheckedAndTakeNoAdapterFile() throws Exception {
    Path bad = dir.resolve("bad.safetensors");
    Safetensors.write(
        bad, Map.of("base.down.weight.lora_b", random(new Random(1), new long[] {2, 7})), Map.of());
    Path out = dir.resolve("st.onnx");
    String[] args = {
      "compile",
      model.toString(),
      "--adapters",
      "runtime-stacked",
      "-o",
      out.toString(),
      "--adapter-weights",
      "good=" + adapterWeights.get(0),
      "--adapter-weights",
      "bad=" + bad
    };
    assertEquals(1, run(args));
    assertTrue(err().contains("CM0641") && err().contains("adapter 'bad'"), err());
    args[args.length - 1] = "bad=" + adapterWeights.get(1);
    assertEquals(0, run(args), err());
    assertEquals(1, runStatus(out, inputs(2), dir.resolve("none.onnx_adapter")));
    assertTrue(err().contains("CM0642") && err().contains("adapter_index"), err());
  }

  @Test
  void aSourceRunCompilesTheRuntimeLayoutAndAppliesTheAdapter() throws Exception {
    compileBase();
    Map<String, Path> inputs = inputs(2);
    Map<String, Tensor> fromFile =
        runModel(dir.resolve("base.onnx"), inputs, dir.resolve("ad/style1.onnx_adapter"));
    List<String> args =
        new java.util.ArrayList<>(List.of("run", model.toString(), "--adapters", "runtime"));
    inputs.forEach((k, v) -> args.addAll(List.of("--input", k + "=" + v)));
    Path out = dir.resolve("src_out");
    args.addAll(
        List.of(
            "--adapter",
            dir.resolve("ad/style1.onnx_adapter").toString(),
            "--output-dir",
            out.toString()));
    assertEquals(0, run(args.toArray(new String[0])), err());
    assertArrayEquals(fromFile.get("y").floats(), Npy.read(out.resolve("y.npy")).floats(), 0f);
  }

  /**
   * What a server does: one session, the three adapters loaded once, concurrent runs each with its
   * own adapter (activated on that run's options only) give what one run at a time gives.
   */
  @Test
  void concurrentRunsOfOneSessionUseTheirOwnAdapters() throws Exception {
    compileBase();
    byte[] base = Files.readAllBytes(dir.resolve("base.onnx"));
    Map<String, Tensor> feed = new LinkedHashMap<>();
    Random rng = new Random(3);
    feed.put("x", random(rng, new long[] {2, 6}));
    feed.put("s", random(rng, new long[] {2, 4, 6}));
    try (dev.cmod.onnx.OnnxRunner runner =
        dev.cmod.onnx.OnnxRunner.open(base, dev.cmod.onnx.OnnxRunner.Device.CPU)) {
      List<dev.cmod.onnx.RunAdapter> adapters = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        adapters.add(
            dev.cmod.onnx.RunAdapter.load(
                "style" + i,
                Files.readAllBytes(dir.resolve("ad/style" + i + ".onnx_adapter")),
                runner.adapterInterface()));
      }
      List<float[]> alone = new java.util.ArrayList<>();
      for (dev.cmod.onnx.RunAdapter a : adapters) {
        alone.add(runner.run(feed, a).get("y").floats());
      }
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(3);
      try {
        List<java.util.concurrent.Future<Boolean>> runs = new java.util.ArrayList<>();
        for (int k = 0; k < 30; k++) {
          int i = k % 3;
          runs.add(
              pool.submit(
                  () ->
                      java.util.Arrays.equals(
                          alone.get(i), runner.run(feed, adapters.get(i)).get("y").floats())));
        }
        for (java.util.concurrent.Future<Boolean> f : runs) {
          assertTrue(f.get(), "a concurrent run gave another adapter's outputs");
        }
      } finally {
        pool.shutdown();
        adapters.forEach(dev.cmod.onnx.RunAdapter::close);
      }
      assertFalse(java.util.Arrays.equals(alone.get(0), alone.get(1)), "adapters differ");
    }
  }

  @Test
  void theFilesAreReadByOnnxRuntimeAndByAnIndependentFlatBuffersReader() throws Exception {
    compileBase();
    Map<String, Tensor> want = Safetensors.read(adapterWeights.get(0));
    byte[] bytes = Files.readAllBytes(dir.resolve("ad/style0.onnx_adapter"));
    try (OrtLoraAdapter ort = OrtLoraAdapter.create(bytes)) {
      // ONNX Runtime verified the buffer (identifier, FlatBuffers verifier, format version)
    }
    Map<String, float[]> read = new LinkedHashMap<>();
    Map<String, long[]> dims = new LinkedHashMap<>();
    TinyFlatBuffers.read(bytes, read, dims);
    assertEquals(want.keySet(), read.keySet());
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      assertArrayEquals(e.getValue().shape(), dims.get(e.getKey()), e.getKey());
      assertArrayEquals(e.getValue().floats(), read.get(e.getKey()), 0f, e.getKey());
    }
  }

  @Test
  void runtimeNeedsAdaptedWeightsAndOptionsGoTogether() {
    Path plain = dir.resolve("plain.cmod");
    write(
        plain,
        "model P {\n  input x: f32[3]\n  param w: f32[3, 2] = init.ones\n  output y: f32[2] = x @ w\n}\n");
    assertEquals(
        1,
        run(
            "compile",
            plain.toString(),
            "--adapters",
            "runtime",
            "-o",
            dir.resolve("p.onnx").toString()));
    assertTrue(err().contains("CM0643"), err());
    assertEquals(
        1,
        run(
            "compile",
            model.toString(),
            "--adapter-weights",
            "a=" + adapterWeights.get(0),
            "-o",
            dir.resolve("p.onnx").toString()));
    assertTrue(err().contains("CM0643"), err());
    assertEquals(
        1,
        run(
            "compile",
            model.toString(),
            "--adapters",
            "runtime-stacked",
            "-o",
            dir.resolve("p.onnx").toString()));
    assertTrue(err().contains("CM0643"), err());
  }

  @Test
  void cmodServePicksTheAdapterEachRequestNames() throws Exception {
    compileBase();
    Map<String, Path> inputs = inputs(1);
    Map<String, Map<String, Tensor>> want = new LinkedHashMap<>();
    for (int i = 0; i < 2; i++) {
      want.put(
          "style" + i,
          runModel(
              dir.resolve("base.onnx"), inputs, dir.resolve("ad/style" + i + ".onnx_adapter")));
    }
    want.put("", runModel(dir.resolve("base.onnx"), inputs, null));
    java.util.concurrent.BlockingQueue<dev.cmod.cli.serve.InferenceServer> started =
        new java.util.concurrent.ArrayBlockingQueue<>(1);
    ServeCommand.started = started::add;
    java.util.concurrent.CompletableFuture<Integer> rc =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () ->
                run(
                    "serve",
                    dir.resolve("base.onnx").toString(),
                    "--port",
                    "0",
                    "--adapter",
                    "style0=" + dir.resolve("ad/style0.onnx_adapter"),
                    "--adapter",
                    "style1=" + dir.resolve("ad/style1.onnx_adapter")));
    dev.cmod.cli.serve.InferenceServer server = null;
    while (server == null && !rc.isDone()) {
      server = started.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
    assertTrue(server != null, "the server did not start: " + err());
    try {
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      float[] x = Npy.read(inputs.get("x")).floats();
      float[] sq = Npy.read(inputs.get("s")).floats();
      for (String adapter : List.of("style1", "", "style0", "nope")) {
        String body =
            "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,6],\"data\":"
                + java.util.Arrays.toString(x)
                + "},{\"name\":\"s\",\"datatype\":\"FP32\",\"shape\":[1,5,6],\"data\":"
                + java.util.Arrays.toString(sq)
                + "}],\"outputs\":[{\"name\":\"y\"}]"
                + (adapter.isEmpty() ? "" : ",\"parameters\":{\"adapter\":\"" + adapter + "\"}")
                + "}";
        java.net.http.HttpResponse<String> r =
            http.send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(server.uri() + "/v2/models/base/infer"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        if (adapter.equals("nope")) {
          assertEquals(400, r.statusCode(), r.body());
          assertTrue(r.body().contains("style0"), r.body());
          continue;
        }
        assertEquals(200, r.statusCode(), r.body());
        com.google.gson.JsonArray data =
            com.google.gson.JsonParser.parseString(r.body())
                .getAsJsonObject()
                .getAsJsonArray("outputs")
                .get(0)
                .getAsJsonObject()
                .getAsJsonArray("data");
        float[] y = want.get(adapter).get("y").floats();
        for (int k = 0; k < y.length; k++) {
          assertEquals(y[k], data.get(k).getAsFloat(), 1e-5, adapter + " y[" + k + "]");
        }
      }
    } finally {
      server.stop();
      ServeCommand.started = s -> {};
    }
    assertEquals(0, rc.get(60, java.util.concurrent.TimeUnit.SECONDS));
  }

  // ---- helpers

  private void compileBase() {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "compile",
                model.toString(),
                "--adapters",
                "runtime",
                "-o",
                dir.resolve("base.onnx").toString(),
                "--adapter-out",
                dir.resolve("ad").toString()));
    for (int i = 0; i < 3; i++) {
      args.add("--adapter-weights");
      args.add("style" + i + "=" + adapterWeights.get(i));
    }
    try {
      Files.createDirectories(dir.resolve("ad"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertEquals(0, run(args.toArray(new String[0])), err());
    for (int i = 0; i < 3; i++) {
      assertTrue(Files.exists(dir.resolve("ad/style" + i + ".onnx_adapter")), out());
    }
  }

  private Map<String, Path> inputs(int batch) {
    Random rng = new Random(7);
    Map<String, Path> in = new LinkedHashMap<>();
    Path x = dir.resolve("x" + batch + ".npy");
    Npy.write(x, random(rng, new long[] {batch, 6}));
    Path s = dir.resolve("s" + batch + ".npy");
    Npy.write(s, random(rng, new long[] {batch, 5, 6}));
    in.put("x", x);
    in.put("s", s);
    return in;
  }

  private int runStatus(Path onnx, Map<String, Path> inputs, Path adapter) {
    List<String> args = new java.util.ArrayList<>(List.of("run", onnx.toString()));
    inputs.forEach((k, v) -> args.addAll(List.of("--input", k + "=" + v)));
    if (adapter != null) {
      args.addAll(List.of("--adapter", adapter.toString()));
    }
    Path out = dir.resolve("out_" + Math.abs((onnx.toString() + adapter).hashCode()));
    args.addAll(List.of("--output-dir", out.toString()));
    return run(args.toArray(new String[0]));
  }

  private Map<String, Tensor> runModel(Path onnx, Map<String, Path> inputs, Path adapter) {
    assertEquals(0, runStatus(onnx, inputs, adapter), err());
    Path out = dir.resolve("out_" + Math.abs((onnx.toString() + adapter).hashCode()));
    Map<String, Tensor> r = new LinkedHashMap<>();
    r.put("y", Npy.read(out.resolve("y.npy")));
    r.put("z", Npy.read(out.resolve("z.npy")));
    return r;
  }

  private static List<String> namesOf(dev.cmod.ir.graph.AdapterInterface a) {
    return a.params().stream().map(dev.cmod.ir.graph.AdapterInterface.Param::name).toList();
  }

  private static Tensor random(Random rng, long[] shape) {
    float[] f = new float[(int) Tensor.numel(shape)];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) rng.nextGaussian() * 0.5f;
    }
    return Tensor.ofFloats(shape, f);
  }

  private static float[] row(Tensor t, int r) {
    int per = t.size() / (int) t.shape()[0];
    float[] out = new float[per];
    System.arraycopy(t.floats(), r * per, out, 0, per);
    return out;
  }

  private static double maxDiff(Tensor a, Tensor b) {
    return maxDiff(a.floats(), b.floats());
  }

  private static double maxDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  private static void assertClose(Map<String, Tensor> want, Map<String, Tensor> got, double tol) {
    for (String k : want.keySet()) {
      assertArrayEquals(want.get(k).shape(), got.get(k).shape(), k);
      double d = maxDiff(want.get(k), got.get(k));
      assertTrue(d <= tol, k + " differs by " + d);
    }
  }

  private static void write(Path p, String text) {
    try {
      Files.writeString(p, text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * A reader of the adapter schema's f32 parameters written from the FlatBuffers format rules (root
   * offset, vtables, offsets relative to where they are stored), independent of {@link
   * OnnxAdapterFile}.
   */
  static final class TinyFlatBuffers {
    static void read(byte[] bytes, Map<String, float[]> values, Map<String, long[]> dims) {
      ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      assertEquals("TORT", new String(bytes, 4, 4, StandardCharsets.US_ASCII));
      int adapter = b.getInt(0);
      assertEquals(1, b.getInt(field(b, adapter, 0)), "format_version");
      int params = deref(b, field(b, adapter, 3));
      for (int i = 0; i < b.getInt(params); i++) {
        int p = deref(b, params + 4 + 4 * i);
        int name = deref(b, field(b, p, 0));
        String n = new String(bytes, name + 4, b.getInt(name), StandardCharsets.UTF_8);
        int d = deref(b, field(b, p, 1));
        long[] shape = new long[b.getInt(d)];
        for (int k = 0; k < shape.length; k++) {
          shape[k] = b.getLong(d + 4 + 8 * k);
        }
        assertEquals(1, b.getInt(field(b, p, 2)), "FLOAT");
        int raw = deref(b, field(b, p, 3));
        assertEquals(0, (raw + 4) % 8, "raw_data is aligned to 8");
        float[] f = new float[b.getInt(raw) / 4];
        for (int k = 0; k < f.length; k++) {
          f[k] = b.getFloat(raw + 4 + 4 * k);
        }
        values.put(n, f);
        dims.put(n, shape);
      }
    }

    private static int field(ByteBuffer b, int table, int i) {
      int vtable = table - b.getInt(table);
      int off = b.getShort(vtable + 4 + 2 * i);
      assertTrue(off > 0, "field " + i + " present");
      return table + off;
    }

    private static int deref(ByteBuffer b, int at) {
      return at + b.getInt(at);
    }
  }
}
