package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.compiler.sema.DataCodec;
import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.io.AtomicFiles;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.SafeFiles;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.onnx.ExternalData;
import dev.cmod.onnx.OnnxChecks;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.RunnerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cmod run}: a .cmod (compiled in memory) or .onnx model run on ONNX Runtime with given or
 * seeded random inputs; outputs printed and optionally written as .npy files.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description =
        "Run a .cmod (compiled in memory) or .onnx model on ONNX Runtime and print its outputs.")
final class RunCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE.(cmod|onnx)")
  Path file;

  @Option(
      names = "--input",
      paramLabel = "NAME=FILE.npy",
      description = "An input tensor (repeatable). Without any, seeded random inputs are used.")
  List<String> inputs = new ArrayList<>();

  @Option(
      names = "--output-dir",
      paramLabel = "DIR",
      description = "Write NAME.npy for every output into DIR.")
  Path outputDir;

  @CommandLine.Mixin DeviceOption device;

  @Option(
      names = "--input-seed",
      description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).",
      defaultValue = "0")
  long inputSeed;

  @Option(
      names = "--adapter",
      paramLabel = "FILE.onnx_adapter",
      description =
          "Run with this adapter's parameters (a model compiled with --adapters runtime; the"
              + " file is checked against the model's adapter interface).")
  Path adapter;

  @CommandLine.Mixin CompileOpts o;

  /** The codecs of the model being run (none until it is read). */
  private RunCodecs codecs = RunCodecs.NONE;

  @Override
  public Integer call() throws IOException {
    OnnxRunner.Device dev = device.device();
    if (outputDir != null) {
      checkOutputDir(outputDir);
    }
    byte[] model;
    Graph graph = null;
    ModelFacts facts = null;
    if (file.toString().endsWith(".onnx")) {
      model = readOnnx(file);
      codecs = RunCodecs.of(model, file);
    } else {
      Toolchain.Compiled c = o.compileOrReport(file);
      if (!c.ok()) {
        return ExitCodes.ERRORS;
      }
      model = c.onnx();
      graph = c.result().graph();
      facts = c.result().facts();
      codecs = RunCodecs.of(facts, file);
    }
    List<String> huge = OnnxChecks.hugeConstantShapes(model, OnnxRunner.maxOutputElements());
    if (!huge.isEmpty()) {
      throw new UserError(
          DiagnosticCode.LIMIT,
          file
              + ": "
              + Excerpt.of(huge.get(0), 500)
              + "; cmod run refuses it before ONNX Runtime allocates the memory");
    }
    try (OnnxRunner runner = OnnxRunner.open(model, dev);
        dev.cmod.onnx.RunAdapter runAdapter =
            adapter == null
                ? null
                : Adapters.load(adapter, runner.adapterInterface(), file.toString())) {
      if (runAdapter != null) {
        Main.out.println(
            "adapter " + runAdapter.name() + ": " + runAdapter.params().size() + " parameter(s)");
      }
      Map<String, Tensor> given = readInputs(runner.inputInfo());
      Map<String, Tensor> feed;
      if (given.isEmpty()) {
        feed =
            graph != null
                ? Toolchain.randomInputs(
                    graph, facts, Toolchain.defaultSizes(graph, facts), inputSeed)
                : OnnxInputs.random(model, inputSeed);
        Main.out.println("inputs (random, seed " + inputSeed + "):");
        feed.forEach(
            (k, v) ->
                Main.out.println(
                    "  " + k + ": " + v.dtype() + java.util.Arrays.toString(v.shape())));
      } else {
        feed = given;
        if (graph != null) {
          InputCheck.check(graph, feed);
        } else {
          InputCheck.check(runner.inputInfo(), feed);
        }
      }
      Map<String, Tensor> results = runner.run(feed, runAdapter);
      Main.out.println("outputs (ONNX Runtime, " + dev.name().toLowerCase(Locale.ROOT) + "):");
      for (Map.Entry<String, Tensor> e : results.entrySet()) {
        Main.out.println("  " + Excerpt.of(e.getKey(), 200) + ": " + e.getValue());
      }
      Map<String, String> names = OutputNames.fileNames(results.keySet());
      Map<String, byte[]> decoded = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : results.entrySet()) {
        DataCodec c = codecs.outputs().get(e.getKey());
        if (c == null) {
          continue;
        }
        String stem = names.get(e.getKey()).replaceAll("\\.npy$", "");
        CodecOutputs.Decoded d = CodecOutputs.decode(e.getKey(), stem, e.getValue(), c, codecs);
        Main.out.println("  " + Excerpt.of(e.getKey(), 200) + " (" + c.kind() + "):");
        for (String line : d.lines()) {
          Main.out.println("    " + line);
        }
        decoded.putAll(d.files());
      }
      if (outputDir != null) {
        writeOutputs(results, decoded);
      }
    } catch (RunnerException e) {
      throw new UserError(
          e.getMessage().startsWith("cannot start ONNX Runtime")
              ? DiagnosticCode.ENVIRONMENT
              : DiagnosticCode.RUNTIME,
          e.getMessage());
    }
    return ExitCodes.OK;
  }

  /**
   * The tensors of the --input NAME=FILE options (a .npy tensor, or image and WAV files decoded for
   * the input's declared type, see {@link MediaInputs}), by name, in the order given.
   */
  private Map<String, Tensor> readInputs(Map<String, ai.onnxruntime.TensorInfo> declared) {
    return readInputs(inputs, declared, codecs);
  }

  /** The tensors of {@code --input NAME=FILE} options, for a model with these inputs. */
  static Map<String, Tensor> readInputs(
      List<String> inputs, Map<String, ai.onnxruntime.TensorInfo> declared) {
    return readInputs(inputs, declared, RunCodecs.NONE);
  }

  /**
   * The same, reading inputs that declare a codec through it: files through image and WAV codecs,
   * text and labels through text codecs (an input given several times is then a batch, and the
   * inputs its tokenizer fills must not be given).
   */
  static Map<String, Tensor> readInputs(
      List<String> inputs, Map<String, ai.onnxruntime.TensorInfo> declared, RunCodecs codecs) {
    Map<String, Tensor> given = new LinkedHashMap<>();
    Map<String, List<String>> texts = new LinkedHashMap<>();
    for (String spec : inputs) {
      int eq = spec.indexOf('=');
      if (eq <= 0) {
        throw Main.usageError("--input needs NAME=FILE.npy, got '" + Excerpt.of(spec, 200) + "'");
      }
      String name = spec.substring(0, eq);
      String value = spec.substring(eq + 1);
      DataCodec codec = codecs.inputs().get(name);
      if (CodecText.isText(codec) && !value.endsWith(".npy")) {
        texts.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        continue;
      }
      if (given.containsKey(name)) {
        throw new UserError(
            DiagnosticCode.INPUT_MISMATCH, "input '" + Excerpt.of(name, 100) + "' is given twice");
      }
      ai.onnxruntime.TensorInfo ti = declared.get(name);
      MediaInputs.Declared d =
          ti == null ? null : new MediaInputs.Declared(ti.getShape(), OnnxRunner.dtype(ti));
      given.put(name, MediaInputs.read(name, value, d, codec));
    }
    Map<String, DType> dtypes = new LinkedHashMap<>();
    declared.forEach((k, ti) -> dtypes.put(k, OnnxRunner.dtype(ti)));
    for (Map.Entry<String, List<String>> e : texts.entrySet()) {
      if (given.containsKey(e.getKey())) {
        throw new UserError(
            DiagnosticCode.INPUT_MISMATCH,
            "input '" + Excerpt.of(e.getKey(), 100) + "' is given both as text and as a file");
      }
      DataCodec c = codecs.inputs().get(e.getKey());
      Map<String, Tensor> made = CodecText.read(e.getKey(), e.getValue(), c, codecs, dtypes);
      for (Map.Entry<String, Tensor> m : made.entrySet()) {
        if (given.containsKey(m.getKey())
            || !m.getKey().equals(e.getKey()) && texts.containsKey(m.getKey())) {
          throw new UserError(
              DiagnosticCode.INPUT_MISMATCH,
              "input '"
                  + Excerpt.of(m.getKey(), 100)
                  + "' is filled by the tokenizer of '"
                  + Excerpt.of(e.getKey(), 100)
                  + "'; do not give it");
        }
        given.put(m.getKey(), m.getValue());
      }
    }
    return given;
  }

  /** Writes every output as a .npy file into --output-dir (all or none). */
  private void writeOutputs(Map<String, Tensor> results, Map<String, byte[]> decoded) {
    // all outputs or none: each is written to a temporary file first
    Map<String, String> names = OutputNames.fileNames(results.keySet());
    Map<Path, byte[]> files = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : results.entrySet()) {
      files.put(outputDir.resolve(names.get(e.getKey())), Npy.toBytes(e.getValue()));
    }
    for (Map.Entry<String, byte[]> e : decoded.entrySet()) {
      Path p = outputDir.resolve(e.getKey());
      if (files.containsKey(p) || !outputDir.equals(p.getParent())) {
        throw new UserError(
            DiagnosticCode.OUTPUT_FILE,
            "decoded output " + e.getKey() + " collides with another file");
      }
      files.put(p, e.getValue());
    }
    List<Path> created = createOutputDir(outputDir);
    try {
      AtomicFiles.writeAll(files);
    } catch (RuntimeException ex) {
      removeCreated(created);
      throw ex;
    }
    for (Map.Entry<String, String> e : names.entrySet()) {
      if (!e.getValue().equals(e.getKey() + ".npy")) {
        Main.out.println(
            "  output '" + Excerpt.of(e.getKey(), 200) + "' written as " + e.getValue());
      }
    }
    Main.out.println("wrote " + files.size() + " file(s) to " + outputDir);
  }

  /**
   * Refuses an output folder that is something else than a folder; a missing one is created when
   * outputs are written.
   */
  private static void checkOutputDir(Path dir) {
    String kind = SafeFiles.kindOf(dir);
    if (kind != null && !Files.isDirectory(dir)) {
      throw new UserError(
          DiagnosticCode.OUTPUT_FILE, "--output-dir " + dir + " is " + kind + ", not a folder");
    }
    for (Path p = dir.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
      String k = SafeFiles.kindOf(p);
      if (k != null) {
        if (!Files.isDirectory(p)) {
          throw new UserError(
              DiagnosticCode.OUTPUT_FILE,
              "cannot create the output folder " + dir + ": " + p + " is " + k);
        }
        break;
      }
    }
    if (kind != null && !Files.isWritable(dir)) {
      throw new UserError(
          DiagnosticCode.OUTPUT_FILE, "the output folder " + dir + " is not writable");
    }
  }

  /**
   * Creates the output folder and any missing parents (as users expect); returns what was created,
   * deepest first.
   */
  private static List<Path> createOutputDir(Path dir) {
    List<Path> missing = new ArrayList<>();
    for (Path p = dir.toAbsolutePath();
        p != null && SafeFiles.kindOf(p) == null;
        p = p.getParent()) {
      missing.add(p);
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      removeCreated(missing);
      throw new UserError(
          DiagnosticCode.OUTPUT_FILE,
          "cannot create the output folder " + dir + ": " + SafeFiles.describe(e));
    }
    return missing;
  }

  private static void removeCreated(List<Path> created) {
    for (Path p : created) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // not empty or gone: leave it
      }
    }
  }

  /**
   * Reads and checks an ONNX file; external data is read here, once, through the same checks, and
   * put into the model, so ONNX Runtime never opens a file the model names.
   */
  static byte[] readOnnx(Path file) {
    byte[] bytes;
    try {
      bytes =
          SafeFiles.readAll(
              file,
              SafeFiles.Policy.USER,
              2L << 30 > Integer.MAX_VALUE - 8 ? Integer.MAX_VALUE - 8 : 2L << 30);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new UserError(DiagnosticCode.ONNX_FILE, "cannot read " + file + ": no such file");
    } catch (IOException e) {
      throw new UserError(
          DiagnosticCode.ONNX_FILE,
          "cannot read "
              + file
              + ": "
              + (e instanceof SafeFiles.RefusedException ? "it " : "")
              + SafeFiles.describe(e));
    }
    Path dir = file.toAbsolutePath().getParent();
    List<String> problems = OnnxChecks.validate(bytes, dir);
    if (!problems.isEmpty()) {
      throw new UserError(
          DiagnosticCode.ONNX_FILE,
          file
              + " is not a valid ONNX model: "
              + Excerpt.of(problems.get(0), 500)
              + (problems.size() > 1
                  ? " (and " + (problems.size() - 1) + " more problem(s))"
                  : ""));
    }
    try {
      return ExternalData.inline(bytes, dir);
    } catch (ExternalData.ExternalDataException e) {
      throw new UserError(
          e.limit ? DiagnosticCode.LIMIT : DiagnosticCode.ONNX_FILE, file + ": " + e.getMessage());
    }
  }
}
