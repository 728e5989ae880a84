package dev.cmod.cli;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.cmod.cli.serve.InferenceServer;
import dev.cmod.cli.serve.ModelRunner;
import dev.cmod.cli.serve.ModelSignature;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.RunAdapter;
import dev.cmod.onnx.RunnerException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cmod serve}: compiles the model once (or loads an .onnx file), opens one ONNX Runtime
 * session and answers KServe's v2 REST protocol on it until SIGTERM or Ctrl-C, which stop it
 * gracefully. A development server: one model, JSON tensors, no authentication.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description =
        "Serve a .cmod (compiled once at start) or .onnx model over KServe's v2 REST inference"
            + " protocol (JSON tensors), batching concurrent requests.")
final class ServeCommand implements Callable<Integer> {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

  @Parameters(index = "0", paramLabel = "FILE.(cmod|onnx)")
  Path file;

  @Option(
      names = "--port",
      description = "Port (0: any free one; default: ${DEFAULT-VALUE}).",
      defaultValue = "8080")
  int port;

  @Option(
      names = "--host",
      description = "Address to listen on (default: ${DEFAULT-VALUE}).",
      defaultValue = "127.0.0.1")
  String host;

  @Option(
      names = "--name",
      description = "The model's name in the URLs (default: --model, or the file name).")
  String name;

  @Option(
      names = "--max-batch",
      description =
          "Most rows one merged run holds; 1 turns batching off (default: ${DEFAULT-VALUE}).",
      defaultValue = "8")
  int maxBatch;

  @Option(
      names = "--max-delay-ms",
      description =
          "How long a request waits for others to share its run (default: ${DEFAULT-VALUE}).",
      defaultValue = "2")
  long maxDelayMs;

  @Option(
      names = "--max-queue",
      description = "Requests that may wait; more get 503 (default: ${DEFAULT-VALUE}).",
      defaultValue = "64")
  int maxQueue;

  @Option(
      names = "--max-request-bytes",
      description = "Largest request body; larger ones get 413 (default: ${DEFAULT-VALUE}).",
      defaultValue = "16777216")
  long maxRequestBytes;

  @Option(
      names = "--threads",
      description = "ONNX Runtime intra-op threads (0: one per core; default: ${DEFAULT-VALUE}).",
      defaultValue = "0")
  int threads;

  @Option(
      names = "--adapter",
      paramLabel = "NAME=FILE.onnx_adapter",
      description =
          "A run-time adapter a request may pick with its parameter adapter = NAME (repeatable;"
              + " the model compiled with --adapters runtime; each file checked against its"
              + " adapter interface at start).")
  java.util.List<String> adapterFiles = new java.util.ArrayList<>();

  @CommandLine.Mixin DeviceOption device;

  @CommandLine.Mixin CompileOpts o;

  /** Told of each server this command starts (tests stop it through this). */
  static volatile java.util.function.Consumer<InferenceServer> started = s -> {};

  @Override
  public Integer call() {
    checkOptions();
    OnnxRunner.Device dev = device.device();
    byte[] bytes;
    ModelProto proto;
    if (file.toString().endsWith(".onnx")) {
      bytes = RunCommand.readOnnx(file);
      try {
        proto = ModelProto.parseFrom(bytes);
      } catch (InvalidProtocolBufferException e) {
        throw new UserError(DiagnosticCode.ONNX_FILE, file + " is not a valid ONNX model");
      }
    } else {
      Toolchain.Compiled c = o.compileOrReport(file);
      if (!c.ok()) {
        return ExitCodes.ERRORS;
      }
      bytes = c.onnx();
      proto = c.model();
    }
    ModelSignature sig;
    try {
      sig = ModelSignature.of(proto);
    } catch (ModelSignature.UnsupportedModel e) {
      throw new UserError(DiagnosticCode.SERVE_MODEL, file + ": " + e.getMessage());
    }
    String model = modelName();
    OnnxRunner runner;
    try {
      runner = OnnxRunner.open(bytes, dev, threads);
    } catch (RunnerException e) {
      throw new UserError(
          e.getMessage().startsWith("cannot start ONNX Runtime")
              ? DiagnosticCode.ENVIRONMENT
              : DiagnosticCode.RUNTIME,
          e.getMessage());
    }
    InferenceServer.Config config =
        new InferenceServer.Config(
            host, port, maxBatch, maxDelayMs, maxQueue, maxRequestBytes, 30_000);
    java.util.Map<String, RunAdapter> adapters = new java.util.LinkedHashMap<>();
    try {
      for (String spec : adapterFiles) {
        int eq = spec.indexOf('=');
        if (eq <= 0) {
          throw Main.usageError("--adapter needs NAME=FILE.onnx_adapter, got '" + spec + "'");
        }
        String name = spec.substring(0, eq);
        if (adapters.containsKey(name)) {
          throw Main.usageError("--adapter " + name + " is given twice");
        }
        adapters.put(
            name,
            Adapters.load(
                java.nio.file.Path.of(spec.substring(eq + 1)),
                runner.adapterInterface(),
                file.toString()));
      }
    } catch (RuntimeException e) {
      adapters.values().forEach(RunAdapter::close);
      runner.close();
      throw e;
    }
    InferenceServer s;
    try {
      s =
          InferenceServer.start(
              model,
              sig,
              ModelRunner.of(runner, adapters),
              adapters.keySet(),
              config,
              Main.err::println);
    } catch (IOException e) {
      throw new UserError(
          DiagnosticCode.SERVE_ADDRESS,
          "cannot listen on "
              + host
              + ":"
              + port
              + ": "
              + Excerpt.of(String.valueOf(e.getMessage()), 300));
    }
    Thread hook = new Thread(s::stop, "cmod-serve-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    Main.out.println(
        "cmod serve: model '"
            + model
            + "' at "
            + s.uri()
            + "/v2/models/"
            + model
            + " ("
            + sig.inputs().size()
            + " input(s), "
            + (sig.batchable() ? "batches up to " + maxBatch + " rows" : "no batch axis")
            + "); stop with Ctrl-C");
    Main.out.flush();
    started.accept(s);
    s.awaitStop();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException stopping) {
      // the JVM is shutting down: the hook is what stopped the server
    }
    Main.out.println("cmod serve: stopped");
    return ExitCodes.OK;
  }

  private String modelName() {
    String n = name;
    if (n == null) {
      n = o.model != null ? o.model : file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
      n = n.replaceAll("[^A-Za-z0-9_.-]", "_");
      if (n.isEmpty() || !NAME.matcher(n).matches()) {
        n = "model";
      }
    } else if (!NAME.matcher(n).matches()) {
      throw Main.usageError(
          "--name must be letters, digits, '_', '.' or '-' (at most 128), got '"
              + Excerpt.of(n, 100)
              + "'");
    }
    return n;
  }

  private void checkOptions() {
    if (port < 0 || port > 65535) {
      throw Main.usageError("--port must be 0..65535");
    }
    if (maxBatch < 1) {
      throw Main.usageError("--max-batch must be at least 1");
    }
    if (maxDelayMs < 0 || maxDelayMs > 60_000) {
      throw Main.usageError("--max-delay-ms must be 0..60000");
    }
    if (maxQueue < 1) {
      throw Main.usageError("--max-queue must be at least 1");
    }
    if (maxRequestBytes < 1 || maxRequestBytes > Integer.MAX_VALUE - 8) {
      throw Main.usageError("--max-request-bytes must be 1.." + (Integer.MAX_VALUE - 8));
    }
    if (threads < 0) {
      throw Main.usageError("--threads must be 0 or more");
    }
  }
}
