package dev.cmod.cli;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.DiagnosticRenderer;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.io.AtomicFiles;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.SafeFiles;
import dev.cmod.ir.io.TensorFileException;
import dev.cmod.ir.print.DotPrinter;
import dev.cmod.ir.print.TextPrinter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.ExternalData;
import dev.cmod.onnx.OnnxChecks;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.RunnerException;
import java.io.IOException;
import java.io.PrintStream;
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

/** Entry point of the {@code cmod} command. */
@Command(
    name = "cmod",
    mixinStandardHelpOptions = true,
    version = "cmod " + Compilation.VERSION,
    description = "Compiler for modular, multimodal deep-learning models (.cmod -> ONNX).",
    subcommands = {
      Main.CompileCmd.class,
      Main.RunCmd.class,
      Main.CheckCmd.class,
      Main.GraphCmd.class,
      Main.ExplainCmd.class,
      Main.BenchCmd.class,
      Main.ExportWeightsCmd.class
    })
public final class Main implements Callable<Integer> {
  static PrintStream out = System.out;
  static PrintStream err = System.err;

  @Override
  public Integer call() {
    CommandLine.usage(this, out);
    return ExitCodes.USAGE;
  }

  public static void main(String[] args) {
    int[] code = {ExitCodes.INTERNAL};
    // a large stack: deeply nested programs must end in a diagnostic, not a StackOverflowError
    Thread t =
        new Thread(
            null, () -> code[0] = execute(args), "cmod", dev.cmod.compiler.BigStack.STACK_BYTES);
    t.setDaemon(true);
    t.start();
    long limit = timeLimitSeconds();
    try {
      t.join(limit * 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (t.isAlive()) {
      // stop a native ONNX Runtime run through its own terminate flag and wait for it to return:
      // exiting while native code runs would crash the JVM
      OnnxRunner.terminateAll();
      boolean idle = OnnxRunner.awaitIdle(30_000);
      try {
        t.join(idle ? 2_000 : 1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      System.out.flush();
      err.println(
          "error[CM0500]: cmod did not finish within "
              + limit
              + " s; stopped"
              + (idle ? "" : " (an ONNX Runtime run did not stop within 30 s of being told to)"));
      err.println("  = help: set CMOD_TIME_LIMIT (seconds) to allow longer");
      err.flush();
      System.exit(ExitCodes.ERRORS);
    }
    System.out.flush();
    System.exit(code[0]);
  }

  static {
    // import onnx: the compiler validates ONNX files with the backend's checks
    dev.cmod.compiler.sema.OnnxFileCheck.Installed.set(OnnxChecks::validate);
    dev.cmod.compiler.sema.OnnxFileCheck.Installed.setImporter(dev.cmod.onnx.OnnxImporter::load);
  }

  /** Wall-clock limit of one cmod command: CMOD_TIME_LIMIT seconds, default 30 minutes. */
  static long timeLimitSeconds() {
    try {
      long v = Long.parseLong(System.getenv().getOrDefault("CMOD_TIME_LIMIT", "1800"));
      return v > 0 ? v : 1800;
    } catch (NumberFormatException e) {
      return 1800;
    }
  }

  /** Runs the command line and returns the exit code (never throws). */
  public static int execute(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(new java.io.PrintWriter(out, true));
    cl.setErr(new java.io.PrintWriter(err, true));
    cl.setParameterExceptionHandler(
        (ex, a) -> {
          err.println("error: " + ex.getMessage());
          err.println("usage: see `cmod " + commandName(ex.getCommandLine()) + " --help`");
          return ExitCodes.USAGE;
        });
    cl.setExecutionExceptionHandler((ex, c, p) -> handle(ex));
    try {
      return cl.execute(args);
    } catch (StackOverflowError | OutOfMemoryError e) {
      return handle(e);
    } catch (LinkageError e) {
      // a native library that cannot load (ONNX Runtime unpacks its own into the temporary folder)
      err.println(
          "error["
              + DiagnosticCode.ENVIRONMENT.id()
              + "]: cannot start ONNX Runtime: "
              + e
              + "; if the temporary folder ("
              + System.getProperty("java.io.tmpdir")
              + ") is not writable or full, set TMPDIR"
              + " or CMOD_JAVA_OPTS=-Djava.io.tmpdir=DIR");
      return ExitCodes.ERRORS;
    }
  }

  private static String commandName(CommandLine c) {
    return c.getCommandName().equals("cmod") ? "" : c.getCommandName();
  }

  static int handle(Throwable ex) {
    if (ex instanceof UserError u) {
      err.println("error[" + u.code.id() + "]: " + Excerpt.of(u.getMessage(), 2000));
      return ExitCodes.ERRORS;
    }
    if (ex instanceof TensorFileException t) {
      // writing a file the user named (reads are reported where they happen, with their own code)
      err.println(
          "error[" + DiagnosticCode.OUTPUT_FILE.id() + "]: " + Excerpt.of(t.getMessage(), 2000));
      return ExitCodes.ERRORS;
    }
    if (ex instanceof java.io.IOException io) {
      err.println(
          "error["
              + DiagnosticCode.OUTPUT_FILE.id()
              + "]: "
              + Excerpt.of(SafeFiles.describe(io), 2000));
      return ExitCodes.ERRORS;
    }
    if (ex instanceof OutOfMemoryError) {
      // the heap is capped on purpose (the launcher's -Xmx): running out is a limit, not a crash
      err.println(
          "error["
              + DiagnosticCode.LIMIT.id()
              + "]: cmod ran out of memory (heap "
              + (Runtime.getRuntime().maxMemory() >> 20)
              + " MiB)");
      err.println(
          "  = help: use a smaller model or inputs, or raise the heap with CMOD_JAVA_OPTS=-Xmx8g");
      return ExitCodes.ERRORS;
    }
    if (ex instanceof StackOverflowError) {
      err.println(
          "error[CM0900]: internal compiler error: the program nests too deeply for the compiler (stack overflow).");
    } else if (ex instanceof OutOfMemoryError) {
      err.println("error[CM0900]: internal compiler error: out of memory.");
    } else {
      err.println("error[CM0900]: internal compiler error: " + ex);
    }
    err.println(
        "  = note: this is a bug in cmod, not in your program; please report it with the source file.");
    if (System.getenv("CMOD_DEBUG") != null) {
      ex.printStackTrace(err);
    }
    return ExitCodes.INTERNAL;
  }

  // ------------------------------------------------------------------------------------------

  /** Options shared by the commands that compile. */
  static class CompileOpts {
    @Option(names = "--model", description = "Which model of the file (default: the last one).")
    String model;

    @Option(names = "--weights", description = "Safetensors file with parameter values by path.")
    Path weights;

    @Option(
        names = "--seed",
        description = "Seed of random initializers (default: ${DEFAULT-VALUE}).",
        defaultValue = "0")
    long seed;

    @Option(names = "-O0", description = "No optimization.")
    boolean o0;

    @Option(names = "-O1", description = "Dead code elimination, constant folding, CSE.")
    boolean o1;

    @Option(
        names = "-O2",
        description = "-O1 plus algebraic simplification to a fixpoint (default).")
    boolean o2;

    @Option(
        names = "--error-format",
        description = "human or json (default: ${DEFAULT-VALUE}).",
        defaultValue = "human")
    String errorFormat;

    @CommandLine.Mixin PassFlags passFlags;

    int level() {
      int n = (o0 ? 1 : 0) + (o1 ? 1 : 0) + (o2 ? 1 : 0);
      if (n > 1) {
        throw new CommandLine.ParameterException(
            new CommandLine(new Main()), "give only one of -O0, -O1, -O2");
      }
      return o0 ? 0 : o1 ? 1 : 2;
    }

    Compilation.Options options() {
      return new Compilation.Options(model, weights, seed, level(), passFlags.options());
    }
  }

  static void printDiagnostics(Diagnostics d, String format) {
    if ("json".equals(format)) {
      List<Diagnostic> all = new ArrayList<>(d.all());
      if (d.suppressed() > 0) {
        // the errors past the shown ones, as one note (tools see the count, not a truncated list)
        all.add(
            new Diagnostic(
                DiagnosticCode.CONTEXT,
                dev.cmod.compiler.diag.Severity.NOTE,
                null,
                "and "
                    + d.suppressed()
                    + " more error"
                    + (d.suppressed() == 1 ? "" : "s")
                    + " not shown ("
                    + d.errorCount()
                    + " in all)",
                null));
      }
      err.println(DiagnosticRenderer.json(all));
      return;
    }
    for (Diagnostic x : d.all()) {
      err.print(DiagnosticRenderer.human(x));
    }
    if (d.suppressed() > 0) {
      int shown = d.errorCount() - d.suppressed();
      err.println(
          "error: and "
              + d.suppressed()
              + " more error"
              + (d.suppressed() == 1 ? "" : "s")
              + " (the first "
              + shown
              + " are shown)");
    }
    if (d.hasErrors()) {
      int n = d.errorCount();
      err.println("error: could not compile: " + n + " error" + (n == 1 ? "" : "s"));
    }
  }

  static Toolchain.Compiled compileOrReport(Path file, CompileOpts o) {
    if (!"human".equals(o.errorFormat) && !"json".equals(o.errorFormat)) {
      throw new CommandLine.ParameterException(
          new CommandLine(new Main()), "--error-format must be human or json");
    }
    Toolchain.Compiled c = Toolchain.compile(file, o.options());
    printDiagnostics(c.result().diagnostics(), o.errorFormat);
    return c;
  }

  static String stem(Path p) {
    String n = p.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }

  @Command(
      name = "compile",
      mixinStandardHelpOptions = true,
      description = "Compile a .cmod file to ONNX.")
  static final class CompileCmd implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE.cmod")
    Path file;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "OUT.onnx",
        description = "Output file (default: FILE.onnx in the current folder).")
    Path output;

    @CommandLine.Mixin CompileOpts o;

    @Override
    public Integer call() throws IOException {
      Toolchain.Compiled c = compileOrReport(file, o);
      if (!c.ok()) {
        return ExitCodes.ERRORS;
      }
      Path target = output != null ? output : Path.of(stem(file) + ".onnx");
      AtomicFiles.write(target, c.onnx()); // only a regular file is replaced; a refusal is CM0600
      out.println(
          "wrote " + target + " (" + c.onnx().length + " bytes, model " + c.result().model() + ")");
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = "Check a .cmod file without writing anything.")
  static final class CheckCmd implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE.cmod")
    Path file;

    @CommandLine.Mixin CompileOpts o;

    @Override
    public Integer call() {
      List<Compilation.Result> results = Compilation.compileAll(file, o.options());
      boolean ok = true;
      for (Compilation.Result r : results) {
        printDiagnostics(r.diagnostics(), o.errorFormat);
        ok &= r.ok();
      }
      List<String> models = results.get(0).models();
      if (ok) {
        out.println(
            "ok: " + file + (models.isEmpty() ? "" : " (" + String.join(", ", models) + ")"));
      }
      return ok ? ExitCodes.OK : ExitCodes.ERRORS;
    }
  }

  @Command(
      name = "graph",
      mixinStandardHelpOptions = true,
      description = "Print the model's IR as Graphviz DOT (or text).")
  static final class GraphCmd implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE.cmod")
    Path file;

    @Option(
        names = "--format",
        description = "dot or text (default: ${DEFAULT-VALUE}).",
        defaultValue = "dot")
    String format;

    @CommandLine.Mixin CompileOpts o;

    @Override
    public Integer call() {
      if (!format.equals("dot") && !format.equals("text")) {
        throw new CommandLine.ParameterException(
            new CommandLine(new Main()), "--format must be dot or text");
      }
      Compilation.Result r = Compilation.compile(file, o.options());
      printDiagnostics(r.diagnostics(), o.errorFormat);
      if (!r.ok()) {
        return ExitCodes.ERRORS;
      }
      out.print(format.equals("dot") ? DotPrinter.print(r.graph()) : TextPrinter.print(r.graph()));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "explain",
      mixinStandardHelpOptions = true,
      description =
          "Explain a diagnostic code (cmod explain CM0201) or a file's models (inputs, outputs, parameters, cost).")
  static final class ExplainCmd implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE.cmod|CMxxxx")
    String what;

    @Option(names = "--auto-source", description = "Also print the source auto(...) synthesized.")
    boolean autoSource;

    @Option(names = "--passes", description = "What each optimization pass changed, per model.")
    boolean passes;

    @CommandLine.Mixin CompileOpts o;

    @Override
    public Integer call() {
      if (what.matches("(?i)CM\\d{1,4}")) {
        DiagnosticCode c =
            DiagnosticCode.byId(String.format("CM%04d", Integer.parseInt(what.substring(2))));
        if (c == null) {
          throw new UserError(
              DiagnosticCode.CONTEXT,
              "no diagnostic "
                  + what.toUpperCase(Locale.ROOT)
                  + "; codes run from CM0001 to CM0900");
        }
        out.println(c.id() + ": " + c.title + " (" + c.severity.text() + ")");
        out.println();
        out.println(c.explanation);
        return ExitCodes.OK;
      }
      Path file = Path.of(what);
      if (passes) {
        return PassFlags.explain(file, o);
      }
      Compilation.Options given = o.options();
      // the model as declared (parameters before -O2 folds LoRA factors into weights) unless
      // -O1/-O2 is asked for
      Compilation.Options base = o.o1 || o.o2 ? given : given.withOptLevel(0);
      List<Compilation.Result> results = Compilation.compileAll(file, base);
      Compilation.Result first = results.get(0);
      if (first.diagnostics().hasErrors()) {
        printDiagnostics(first.diagnostics(), o.errorFormat);
        return ExitCodes.ERRORS;
      }
      boolean ok = true;
      // in file order
      for (String m : o.model != null ? List.of(first.model()) : first.models()) {
        Compilation.Result r =
            results.stream().filter(x -> m.equals(x.model())).findFirst().orElseThrow();
        if (!r.ok()) {
          printDiagnostics(r.diagnostics(), o.errorFormat);
          ok = false;
          continue;
        }
        out.print(Explain.model(r, autoSource));
      }
      return ok ? ExitCodes.OK : ExitCodes.ERRORS;
    }
  }

  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description =
          "Run a .cmod (compiled in memory) or .onnx model on ONNX Runtime and print its outputs.")
  static final class RunCmd implements Callable<Integer> {
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

    @Option(
        names = "--device",
        description = "cpu or cuda (default: ${DEFAULT-VALUE}).",
        defaultValue = "cpu")
    String device;

    @Option(
        names = "--input-seed",
        description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).",
        defaultValue = "0")
    long inputSeed;

    @CommandLine.Mixin CompileOpts o;

    @Override
    public Integer call() throws IOException {
      OnnxRunner.Device dev =
          switch (device.toLowerCase(Locale.ROOT)) {
            case "cpu" -> OnnxRunner.Device.CPU;
            case "cuda", "gpu" -> OnnxRunner.Device.CUDA;
            default ->
                throw new CommandLine.ParameterException(
                    new CommandLine(new Main()), "--device must be cpu or cuda");
          };
      if (outputDir != null) {
        checkOutputDir(outputDir);
      }
      byte[] model;
      Graph graph = null;
      ModelFacts facts = null;
      if (file.toString().endsWith(".onnx")) {
        model = readOnnx(file);
      } else {
        Toolchain.Compiled c = compileOrReport(file, o);
        if (!c.ok()) {
          return ExitCodes.ERRORS;
        }
        model = c.onnx();
        graph = c.result().graph();
        facts = c.result().facts();
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
      Map<String, Tensor> given = new LinkedHashMap<>();
      for (String spec : inputs) {
        int eq = spec.indexOf('=');
        if (eq <= 0) {
          throw new CommandLine.ParameterException(
              new CommandLine(new Main()),
              "--input needs NAME=FILE.npy, got '" + Excerpt.of(spec, 200) + "'");
        }
        String name = spec.substring(0, eq);
        Path p;
        try {
          p = Path.of(spec.substring(eq + 1));
        } catch (java.nio.file.InvalidPathException e) {
          throw new UserError(
              DiagnosticCode.INPUT_FILE, "input '" + Excerpt.of(name, 100) + "': not a valid path");
        }
        if (given.containsKey(name)) {
          throw new UserError(
              DiagnosticCode.INPUT_MISMATCH,
              "input '" + Excerpt.of(name, 100) + "' is given twice");
        }
        try {
          given.put(name, Npy.read(p));
        } catch (TensorFileException e) {
          throw new UserError(
              DiagnosticCode.INPUT_FILE,
              "input '" + Excerpt.of(name, 100) + "': " + e.getMessage());
        }
      }
      try (OnnxRunner runner = OnnxRunner.open(model, dev)) {
        Map<String, Tensor> feed;
        if (given.isEmpty()) {
          feed =
              graph != null
                  ? Toolchain.randomInputs(
                      graph, facts, Toolchain.defaultSizes(graph, facts), inputSeed)
                  : OnnxInputs.random(model, inputSeed);
          out.println("inputs (random, seed " + inputSeed + "):");
          feed.forEach(
              (k, v) ->
                  out.println("  " + k + ": " + v.dtype() + java.util.Arrays.toString(v.shape())));
        } else {
          feed = given;
          if (graph != null) {
            InputCheck.check(graph, feed);
          } else {
            InputCheck.check(runner.inputInfo(), feed);
          }
        }
        Map<String, Tensor> results = runner.run(feed);
        out.println("outputs (ONNX Runtime, " + dev.name().toLowerCase(Locale.ROOT) + "):");
        for (Map.Entry<String, Tensor> e : results.entrySet()) {
          out.println("  " + Excerpt.of(e.getKey(), 200) + ": " + e.getValue());
        }
        if (outputDir != null) {
          // all outputs or none: each is written to a temporary file first
          Map<String, String> names = OutputNames.fileNames(results.keySet());
          Map<Path, byte[]> files = new LinkedHashMap<>();
          for (Map.Entry<String, Tensor> e : results.entrySet()) {
            files.put(outputDir.resolve(names.get(e.getKey())), Npy.toBytes(e.getValue()));
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
              out.println(
                  "  output '" + Excerpt.of(e.getKey(), 200) + "' written as " + e.getValue());
            }
          }
          out.println("wrote " + results.size() + " file(s) to " + outputDir);
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
     * Creates the output folder and any missing parents (as users expect); returns what was
     * created, deepest first.
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
    private static byte[] readOnnx(Path file) {
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
            e.limit ? DiagnosticCode.LIMIT : DiagnosticCode.ONNX_FILE,
            file + ": " + e.getMessage());
      }
    }
  }

  @Command(
      name = "export-weights",
      mixinStandardHelpOptions = true,
      description =
          "Write every parameter of a model to a safetensors file, keyed by parameter path.")
  static final class ExportWeightsCmd implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE.cmod")
    Path file;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "W.safetensors",
        required = true,
        description = "Output file.")
    Path output;

    @CommandLine.Mixin CompileOpts o;

    @Override
    public Integer call() throws IOException {
      Compilation.Options base = o.options();
      // parameters as declared: no folding or merging
      Compilation.Result r = Compilation.compile(file, base.withOptLevel(0));
      printDiagnostics(r.diagnostics(), o.errorFormat);
      if (!r.ok()) {
        return ExitCodes.ERRORS;
      }
      Map<String, Tensor> params = new java.util.TreeMap<>();
      for (Node n : r.graph().nodes()) {
        if (n.op() == Op.PARAM) {
          params.put(n.attrs().getString("path"), n.attrs().getTensor("value"));
        }
      }
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("cmod.model", r.model());
      meta.put("cmod.source", file.getFileName().toString());
      dev.cmod.ir.io.Safetensors.write(output, params, meta);
      out.println("wrote " + output + " (" + params.size() + " tensors, model " + r.model() + ")");
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "bench",
      mixinStandardHelpOptions = true,
      description =
          "Time compilation and inference of a model; ratios against the interpreter and -O0 measured in the same run.")
  static final class BenchCmd implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE.cmod")
    Path file;

    @Option(
        names = "--runs",
        description = "Timed runs per measurement (default: ${DEFAULT-VALUE}).",
        defaultValue = "20")
    int runs;

    @Option(
        names = "--warmup",
        description = "Untimed warm-up runs (default: ${DEFAULT-VALUE}).",
        defaultValue = "5")
    int warmup;

    @Option(
        names = "--device",
        description = "cpu or cuda (default: ${DEFAULT-VALUE}).",
        defaultValue = "cpu")
    String device;

    @CommandLine.Mixin CompileOpts o;

    @Override
    public Integer call() {
      if (runs < 1 || warmup < 0) {
        throw new CommandLine.ParameterException(
            new CommandLine(new Main()), "--runs must be >= 1 and --warmup >= 0");
      }
      OnnxRunner.Device dev =
          device.equalsIgnoreCase("cuda") ? OnnxRunner.Device.CUDA : OnnxRunner.Device.CPU;
      try {
        Bench.run(file, o.options(), dev, warmup, runs, 0, out);
      } catch (RunnerException e) {
        throw new UserError(DiagnosticCode.RUNTIME, e.getMessage());
      }
      return ExitCodes.OK;
    }
  }

  /**
   * Checks user-given inputs against a model's declared inputs before ONNX Runtime sees them:
   * names, dtype (kept as the file holds it: a mismatch is an error, never a conversion), rank,
   * fixed dims, and one size per symbolic dim across all inputs.
   */
  static final class InputCheck {
    private InputCheck() {}

    /**
     * One declared input: its dtype (null when cmod cannot feed it), display of its type, and dims
     * (a fixed size or a symbol).
     */
    record Declared(String name, DType dtype, String typeText, long[] fixed, String[] symbols) {}

    static void check(Graph g, Map<String, Tensor> feed) {
      List<Declared> decl = new ArrayList<>();
      for (Node in : g.inputs()) {
        TensorType ty = in.type();
        long[] fixed = new long[ty.rank()];
        String[] sym = new String[ty.rank()];
        for (int i = 0; i < ty.rank(); i++) {
          Dim d = ty.dim(i);
          fixed[i] = d.isKnown() ? d.value() : -1;
          sym[i] =
              d.symbols().size() == 1 && d.toString().equals(d.symbols().iterator().next())
                  ? d.toString()
                  : null;
        }
        decl.add(new Declared(in.attrs().getString("name"), ty.dtype(), ty.toString(), fixed, sym));
      }
      check(decl, feed, true);
    }

    static void check(Map<String, ai.onnxruntime.TensorInfo> info, Map<String, Tensor> feed) {
      List<Declared> decl = new ArrayList<>();
      for (Map.Entry<String, ai.onnxruntime.TensorInfo> e : info.entrySet()) {
        ai.onnxruntime.TensorInfo ti = e.getValue();
        long[] shape = ti.getShape();
        String[] names = ti.getDimensionNames();
        String[] sym = new String[shape.length];
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
          sym[i] =
              shape[i] < 0 && names != null && i < names.length && !names[i].isEmpty()
                  ? names[i]
                  : null;
          text.append(i > 0 ? ", " : "")
              .append(shape[i] >= 0 ? Long.toString(shape[i]) : sym[i] != null ? sym[i] : "?");
        }
        DType dt =
            switch (ti.type) {
              case FLOAT -> DType.F32;
              case DOUBLE -> DType.F64;
              case FLOAT16 -> DType.F16;
              case BFLOAT16 -> DType.BF16;
              case INT64 -> DType.I64;
              case INT32 -> DType.I32;
              case BOOL -> DType.BOOL;
              default -> null;
            };
        String dtName = dt != null ? dt.toString() : ti.type.toString().toLowerCase(Locale.ROOT);
        decl.add(new Declared(e.getKey(), dt, dtName + "[" + text + "]", shape, sym));
      }
      check(decl, feed, false);
    }

    private static void check(List<Declared> decl, Map<String, Tensor> feed, boolean compiled) {
      Map<String, Long> bound = new LinkedHashMap<>();
      Map<String, String> from = new LinkedHashMap<>();
      List<String> names = new ArrayList<>();
      for (Declared d : decl) {
        names.add(d.name());
      }
      for (String k : feed.keySet()) {
        if (!names.contains(k)) {
          throw new UserError(
              DiagnosticCode.INPUT_MISMATCH,
              "the model has no input '"
                  + Excerpt.of(k, 100)
                  + "'; its inputs are "
                  + Excerpt.of(names.toString(), 500));
        }
      }
      for (Declared d : decl) {
        String name = d.name();
        Tensor t = feed.get(name);
        if (t == null) {
          throw new UserError(
              DiagnosticCode.INPUT_MISMATCH,
              "input '"
                  + name
                  + "' ("
                  + d.typeText()
                  + ") is missing; pass --input "
                  + name
                  + "=FILE.npy");
        }
        String holds = t.dtype() + java.util.Arrays.toString(t.shape());
        if (d.dtype() == null) {
          throw new UserError(
              DiagnosticCode.INPUT_MISMATCH,
              "input '"
                  + name
                  + "' is "
                  + d.typeText()
                  + ", an element type cmod run cannot pass yet; the file holds "
                  + holds);
        }
        // .npy has no bfloat16: a float32 file feeds a bf16 input
        boolean bf16FromF32 = d.dtype() == DType.BF16 && t.dtype() == DType.F32;
        if (t.dtype() != d.dtype() && !bf16FromF32) {
          throw new UserError(
              DiagnosticCode.INPUT_MISMATCH,
              "input '"
                  + name
                  + "' must be "
                  + d.dtype()
                  + " ("
                  + d.typeText()
                  + "), the file holds "
                  + t.dtype()
                  + " ("
                  + holds
                  + "); cmod does not convert element types: save the array as "
                  + npyName(d.dtype()));
        }
        if (t.rank() != d.fixed().length) {
          throw new UserError(
              DiagnosticCode.INPUT_MISMATCH,
              "input '"
                  + name
                  + "' must have rank "
                  + d.fixed().length
                  + " ("
                  + d.typeText()
                  + "), the file holds "
                  + holds);
        }
        for (int i = 0; i < d.fixed().length; i++) {
          long have = t.dim(i);
          String sym = d.symbols()[i];
          if (d.fixed()[i] >= 0 && d.fixed()[i] != have) {
            throw new UserError(
                DiagnosticCode.INPUT_MISMATCH,
                "input '"
                    + name
                    + "' must have shape "
                    + d.typeText()
                    + ": axis "
                    + i
                    + " is "
                    + have
                    + ", expected "
                    + d.fixed()[i]
                    + " (the file holds "
                    + holds
                    + ")");
          } else if (sym != null) {
            Long prev = bound.putIfAbsent(sym, have);
            if (prev != null && prev != have) {
              throw new UserError(
                  DiagnosticCode.INPUT_MISMATCH,
                  "input '"
                      + name
                      + "' axis "
                      + i
                      + " is "
                      + have
                      + " but "
                      + sym
                      + " is "
                      + prev
                      + " (from "
                      + from.get(sym)
                      + "); one symbolic dim takes one size");
            }
            from.putIfAbsent(sym, "input '" + name + "' axis " + i);
          }
        }
        if (bf16FromF32) {
          feed.put(name, Tensor.ofFloats(DType.BF16, t.shape(), t.floats()));
        }
      }
    }

    private static String npyName(DType d) {
      return switch (d) {
        case F32, BF16 -> "float32";
        case F64 -> "float64";
        case F16 -> "float16";
        case I64 -> "int64";
        case I32 -> "int32";
        case BOOL -> "bool";
      };
    }
  }
}
