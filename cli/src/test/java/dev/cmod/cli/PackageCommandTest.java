package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxImports;
import dev.cmod.onnx.OnnxRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cmod package}: each format's files with the values the model's types give, the artifact
 * shipped byte for byte (or with its external data, running to the same outputs), and the refusals
 * that keep the layout inside its folder and never half written.
 */
class PackageCommandTest extends CommandLineHarness {
  @TempDir Path dir;

  private Path source() throws Exception {
    Path src = dir.resolve("enc.cmod");
    Files.writeString(
        src,
        """
        import std.nn.{Linear}
        model Enc {
          input x: f32[16]
          input ids: i64[seq] where seq <= 12
          let a = Linear(16, 64)
          let b = Linear(64, 8)
          output y: f32[8] = b(relu(a(x)))
          output n: i64[seq] = ids + 1
        }
        """);
    return src;
  }

  private byte[] compiled(Path src) {
    return Toolchain.compile(src, CompileOptions.defaults().withOnnxImports(OnnxImports.SERVICE))
        .onnx();
  }

  @Test
  void tritonRepositoryHasTypedPortsWithoutTheBatchAxis() throws Exception {
    Path src = source();
    Path out = dir.resolve("repo");
    assertEquals(
        0, run("package", src.toString(), "--format", "triton", "-o", out.toString()), err());
    String config = Files.readString(out.resolve("Enc/config.pbtxt"));
    assertTrue(config.contains("platform: \"onnxruntime_onnx\""), config);
    assertTrue(config.contains("max_batch_size: 8"), config);
    assertTrue(config.contains("name: \"x\"\n    data_type: TYPE_FP32\n    dims: [16]"), config);
    assertTrue(config.contains("name: \"ids\"\n    data_type: TYPE_INT64\n    dims: [-1]"), config);
    assertTrue(config.contains("name: \"n\"\n    data_type: TYPE_INT64\n    dims: [-1]"), config);
    assertTrue(config.contains("max_queue_delay_microseconds: 5000"), config);
    assertArrayEquals(compiled(src), Files.readAllBytes(out.resolve("Enc/1/model.onnx")));
    assertTrue(Files.readString(out.resolve("README.txt")).contains("The client's job"));
    assertEquals(List.of(), leftovers(dir), "no temporary folder is left");
  }

  @Test
  void djlFolderHasItsPropertiesAndTheModelNamedAfterTheFolder() throws Exception {
    Path src = source();
    Path out = dir.resolve("djl");
    assertEquals(
        0,
        run(
            "package",
            src.toString(),
            "--format",
            "djl",
            "-o",
            out.toString(),
            "--name",
            "enc",
            "--max-batch-size",
            "4",
            "--max-batch-delay-ms",
            "20"),
        err());
    assertEquals(
        "# written by cmod package; DJL Serving model configuration\n"
            + "engine=OnnxRuntime\nbatch_size=4\nmax_batch_delay=20\n",
        Files.readString(out.resolve("enc/serving.properties")));
    assertArrayEquals(compiled(src), Files.readAllBytes(out.resolve("enc/enc.onnx")));
  }

  @Test
  void kserveManifestPointsTheTritonRuntimeAtTheRepository() throws Exception {
    Path src = source();
    Path out = dir.resolve("ks");
    assertEquals(
        0,
        run(
            "package",
            src.toString(),
            "--format",
            "kserve",
            "-o",
            out.toString(),
            "--name",
            "My_Enc",
            "--storage-uri",
            "s3://bucket/enc/models"),
        err());
    // read back by a YAML parser: the fields of KServe's v1beta1 InferenceService
    Map<String, Object> isvc =
        new org.yaml.snakeyaml.Yaml().load(Files.readString(out.resolve("inferenceservice.yaml")));
    assertEquals("serving.kserve.io/v1beta1", isvc.get("apiVersion"));
    assertEquals("InferenceService", isvc.get("kind"));
    String name = (String) map(isvc, "metadata").get("name");
    assertEquals("my-enc", name);
    assertTrue(name.matches("[a-z]([-a-z0-9]*[a-z0-9])?") && name.length() <= 63, name);
    Map<String, Object> model = map(map(map(isvc, "spec"), "predictor"), "model");
    assertEquals("onnx", map(model, "modelFormat").get("name"));
    assertEquals("kserve-tritonserver", model.get("runtime"));
    assertEquals("v2", model.get("protocolVersion"));
    assertEquals("s3://bucket/enc/models", model.get("storageUri"));
    assertTrue(Files.isRegularFile(out.resolve("models/My_Enc/config.pbtxt")));
    assertTrue(Files.isRegularFile(out.resolve("models/My_Enc/1/model.onnx")));
  }

  @Test
  void externalDataTravelsWithTheModelAndRunsTheSame() throws Exception {
    Path src = source();
    Path out = dir.resolve("ext");
    assertEquals(
        0,
        run(
            "package",
            src.toString(),
            "--format",
            "triton",
            "-o",
            out.toString(),
            "--external-data"),
        err());
    Path model = out.resolve("Enc/1/model.onnx");
    assertTrue(Files.isRegularFile(out.resolve("Enc/1/model.onnx.data")), out());
    Map<String, Tensor> in =
        Map.of(
            "x", Tensor.ofFloats(dev.cmod.ir.type.DType.F32, new long[] {2, 16}, ramp(32)),
            "ids", Tensor.ofLongs(dev.cmod.ir.type.DType.I64, new long[] {2, 3}, new long[6]));
    Map<String, Tensor> want;
    try (OnnxRunner r = OnnxRunner.open(compiled(src), OnnxRunner.Device.CPU)) {
      want = r.run(in);
    }
    try (OnnxRunner r = OnnxRunner.open(model, OnnxRunner.Device.CPU)) {
      Map<String, Tensor> got = r.run(in);
      assertArrayEquals(want.get("y").floats(), got.get("y").floats());
    }
  }

  @Test
  void aModelWithoutABatchAxisIsServedUnbatchedWithItsFullDims() throws Exception {
    Path src = dir.resolve("fixed.cmod");
    Files.writeString(
        src,
        """
        model Fixed {
          input x: exact f32[2, 3]
          output y: exact f32[2, 3] = x * 2.0
        }
        """);
    Path out = dir.resolve("fixed");
    assertEquals(
        0, run("package", src.toString(), "--format", "triton", "-o", out.toString()), err());
    String config = Files.readString(out.resolve("Fixed/config.pbtxt"));
    assertTrue(config.contains("max_batch_size: 0"), config);
    assertTrue(config.contains("dims: [2, 3]"), config);
    assertFalse(config.contains("dynamic_batching"), config);
    assertTrue(out().contains("served unbatched"), out());
  }

  @Test
  void refusesAFileALinkInsideAndANonFileTargetLeavingNothing() throws Exception {
    Path src = source();
    Path file = dir.resolve("taken");
    Files.writeString(file, "keep");
    assertEquals(1, run("package", src.toString(), "--format", "triton", "-o", file.toString()));
    assertTrue(err().contains("error[CM0620]") && err().contains("not a folder"), err());
    assertEquals("keep", Files.readString(file));

    Path outside = Files.createDirectory(dir.resolve("outside"));
    Path repo = Files.createDirectory(dir.resolve("linked"));
    Files.createSymbolicLink(repo.resolve("Enc"), outside);
    assertEquals(1, run("package", src.toString(), "--format", "triton", "-o", repo.toString()));
    assertTrue(err().contains("symbolic link"), err());
    assertEquals(List.of(), Files.list(outside).toList(), "nothing written through the link");

    Path busy = dir.resolve("busy");
    Files.createDirectories(busy.resolve("Enc/1/model.onnx"));
    Files.writeString(busy.resolve("README.txt"), "old");
    assertEquals(1, run("package", src.toString(), "--format", "triton", "-o", busy.toString()));
    assertTrue(err().contains("only regular files"), err());
    assertEquals("old", Files.readString(busy.resolve("README.txt")), "no file of it replaced");
    assertFalse(Files.exists(busy.resolve("Enc/config.pbtxt")), "no partial layout");
    assertEquals(List.of(), leftovers(dir));

    assertEquals(
        2,
        run(
            "package",
            src.toString(),
            "--format",
            "triton",
            "-o",
            busy.toString(),
            "--name",
            "../up"));
    assertEquals(2, run("package", src.toString(), "--format", "onnx", "-o", busy.toString()));
  }

  @Test
  void anExistingLayoutIsReplacedFileByFile() throws Exception {
    Path src = source();
    Path out = dir.resolve("again");
    assertEquals(0, run("package", src.toString(), "--format", "djl", "-o", out.toString()));
    Files.writeString(out.resolve("mine.txt"), "mine");
    assertEquals(
        0,
        run(
            "package",
            src.toString(),
            "--format",
            "djl",
            "-o",
            out.toString(),
            "--max-batch-size",
            "2"),
        err());
    assertTrue(Files.readString(out.resolve("Enc/serving.properties")).contains("batch_size=2"));
    assertEquals("mine", Files.readString(out.resolve("mine.txt")), "other files are left alone");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Map<String, Object> m, String key) {
    return (Map<String, Object>) m.get(key);
  }

  private static List<Path> leftovers(Path d) throws Exception {
    try (Stream<Path> s = Files.list(d)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
    }
  }

  private static float[] ramp(int n) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (i % 7) * 0.25f - 0.5f;
    }
    return f;
  }
}
