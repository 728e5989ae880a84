package dev.cmod.fuzz;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Fuzz target for {@code cmod run MODEL.onnx --output-dir out} on models built from the fuzzer's
 * data: hostile output names (separators, {@code ..}, absolute paths, control characters,
 * duplicates), an initializer with external data whose location, offset, length and dims come from
 * the input, and a data file that is a regular file, a hard link, a symbolic link, a folder or
 * missing. Each run happens in a fresh sandbox: {@code sandbox/model/} holds the model and its
 * data, {@code sandbox/out/} is the output folder, and {@code sandbox/outside/} (plus the sandbox
 * itself) must not change.
 *
 * <p>Findings: an exit other than 0 or 1; a failure without {@code error[CMxxxx]}; CM0900; a stack
 * trace; any change outside {@code out/}; on failure any file in {@code out/}; on success a file
 * set in {@code out/} that is not exactly one {@code .npy} per output; a file in {@code out/} whose
 * name is not a plain file name.
 */
class OnnxRunFuzzTest {
  private static final Pattern CODE = Pattern.compile("error\\[CM(\\d{4})]");
  private static final String[] NAME_PARTS = {
    "y", "../", "..", "/", "/tmp/", "a/b", "\\", ".", "\u0001", "\n", " ", "é", "out", "y.npy",
    "CON", ":", "*", ".hidden"
  };

  @FuzzTest(maxDuration = "60s")
  void runModel(FuzzedDataProvider data) throws Exception {
    Path sandbox = Files.createTempDirectory("cmod-onnxrun");
    try {
      check(sandbox, data);
    } finally {
      deleteTree(sandbox);
    }
  }

  private static void check(Path sandbox, FuzzedDataProvider data) throws Exception {
    Path model = Files.createDirectories(sandbox.resolve("model"));
    Path outside = Files.createDirectories(sandbox.resolve("outside"));
    Files.writeString(outside.resolve("secret.bin"), "0123456789abcdef0123456789abcdef");
    Path out = sandbox.resolve("out");
    // the data file's kind
    int kind = data.consumeInt(0, 5);
    Path bin = model.resolve("w.bin");
    switch (kind) {
      case 0 -> Files.write(bin, new byte[64]);
      case 1 -> Files.createLink(bin, outside.resolve("secret.bin"));
      case 2 -> Files.createSymbolicLink(bin, outside.resolve("secret.bin"));
      case 3 -> Files.createDirectories(bin);
      case 4 -> Files.write(bin, new byte[3]);
      default -> {} // missing
    }
    // outputs
    int outputs = data.consumeInt(1, 4);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < outputs; i++) {
      StringBuilder sb = new StringBuilder();
      int parts = data.consumeInt(0, 4);
      for (int k = 0; k < parts; k++) {
        sb.append(data.pickValue(NAME_PARTS));
      }
      sb.append(data.consumeString(8));
      String n = sb.toString();
      if (n.isEmpty() || names.contains(n)) {
        n = n + "o" + i;
      }
      names.add(n);
    }
    // one initializer, inline or external
    boolean external = data.consumeBoolean();
    long dim = data.pickValue(new long[] {1, 2, 4, 16, 1L << 20, 1L << 30, 1L << 40});
    TensorProto.Builder w = TensorProto.newBuilder().setName("w").setDataType(1).addDims(dim);
    if (external) {
      String location =
          data.pickValue(
              new String[] {
                "w.bin",
                "../outside/secret.bin",
                "/etc/passwd",
                "sub/../w.bin",
                "w.bin\u0000x",
                "",
                "nope.bin",
                data.consumeString(12)
              });
      w.setDataLocation(TensorProto.DataLocation.EXTERNAL)
          .addExternalData(
              StringStringEntryProto.newBuilder().setKey("location").setValue(location));
      if (data.consumeBoolean()) {
        w.addExternalData(
            StringStringEntryProto.newBuilder()
                .setKey("offset")
                .setValue(Long.toString(data.consumeLong())));
      }
      if (data.consumeBoolean()) {
        w.addExternalData(
            StringStringEntryProto.newBuilder()
                .setKey("length")
                .setValue(Long.toString(data.consumeBoolean() ? dim * 4 : data.consumeLong())));
      }
    } else {
      int n = (int) Math.min(dim, 16);
      w.clearDims().addDims(n);
      for (int i = 0; i < n; i++) {
        w.addFloatData(i);
      }
      dim = n;
    }
    GraphProto.Builder g =
        GraphProto.newBuilder().setName("g").addInitializer(w).addInput(value("x", dim));
    for (String n : names) {
      g.addNode(NodeProto.newBuilder().setOpType("Add").addInput("x").addInput("w").addOutput(n));
      g.addOutput(value(n, dim));
    }
    ModelProto m =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
            .setGraph(g)
            .build();
    Files.write(model.resolve("m.onnx"), m.toByteArray());

    Map<String, String> before = snapshot(sandbox, out);
    Cli.Run r =
        Cli.inProcess("run", model.resolve("m.onnx").toString(), "--output-dir", out.toString());
    List<String> problems = new ArrayList<>();
    if (r.exit() != 0 && r.exit() != 1) {
      problems.add("exit " + r.exit());
    }
    Matcher c = CODE.matcher(r.err());
    if (r.exit() != 0 && !c.find()) {
      problems.add("failure without a CM code");
    }
    // (the model's own names may contain any text, "CM0900" included: look for the diagnostic
    // itself)
    if (r.err().contains("error[CM0900]")
        || r.all().contains("\tat ")
        || java.util.regex.Pattern.compile("(?m)^Exception in thread").matcher(r.all()).find()) {
      problems.add("internal error or stack trace");
    }
    if (!before.equals(snapshot(sandbox, out))) {
      problems.add("something outside out/ changed");
    }
    List<String> written = new ArrayList<>();
    if (Files.isDirectory(out)) {
      try (Stream<Path> s = Files.list(out)) {
        s.forEach(p -> written.add(p.getFileName().toString()));
      }
    }
    for (String f : written) {
      if (!f.matches("[A-Za-z0-9._-]+") || f.startsWith(".") || !f.endsWith(".npy")) {
        problems.add("bad file name in out/: " + f);
      }
    }
    if (r.exit() == 0 && written.size() != names.size()) {
      problems.add("success with " + written.size() + " files for " + names.size() + " outputs");
    }
    if (r.exit() != 0 && !written.isEmpty()) {
      problems.add("failure left files in out/: " + written);
    }
    if (!problems.isEmpty()) {
      throw new AssertionError(
          problems
              + " for outputs "
              + names
              + ", kind "
              + kind
              + ", external "
              + external
              + ", dim "
              + dim
              + "\n"
              + r.all());
    }
  }

  private static ValueInfoProto value(String name, long dim) {
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(1)
                        .setShape(
                            TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(dim)))))
        .build();
  }

  /** Path to content hash (or kind) of everything under {@code root} except {@code skip}. */
  private static Map<String, String> snapshot(Path root, Path skip) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (p.startsWith(skip)) {
          continue;
        }
        String key = root.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          m.put(key, "link:" + Files.readSymbolicLink(p));
        } else if (Files.isRegularFile(p)) {
          try {
            m.put(
                key,
                HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
          } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
          }
        } else {
          m.put(key, Files.isDirectory(p) ? "dir" : "other");
        }
      }
    }
    // the folder that holds the sandbox must not gain entries named like escapes either
    try (Stream<Path> s = Files.list(root.getParent())) {
      m.put(
          "#parent-escape",
          Boolean.toString(s.anyMatch(p -> p.getFileName().toString().contains("escape"))));
    }
    return m;
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      List<Path> all = s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList();
      for (Path p : all) {
        Files.deleteIfExists(p);
      }
    }
  }
}
