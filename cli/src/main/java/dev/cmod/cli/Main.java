package dev.cmod.cli;

import dev.cmod.compiler.BigStack;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.ir.io.SafeFiles;
import dev.cmod.ir.io.TensorFileException;
import dev.cmod.onnx.OnnxRunner;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the {@code cmod} command: the picocli root whose subcommands are one class each
 * ({@code CompileCommand}, {@code RunCommand}, ...). {@link #execute} runs a command line in the
 * calling thread and returns its exit code; {@link #main} runs it on a large-stack thread under the
 * wall-clock limit. {@link #out} and {@link #err} are where every command writes (tests swap them
 * for buffers).
 */
@Command(
    name = "cmod",
    mixinStandardHelpOptions = true,
    version = "cmod " + Compilation.VERSION,
    description = "Compiler for modular, multimodal deep-learning models (.cmod -> ONNX).",
    subcommands = {
      CompileCommand.class,
      RunCommand.class,
      CheckCommand.class,
      GraphCommand.class,
      ExplainCommand.class,
      BenchCommand.class,
      ExportWeightsCommand.class,
      WrapCommand.class,
      ServeCommand.class,
      PackageCommand.class
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
    // a large stack: deeply nested programs must end in a diagnostic, not a StackOverflowError
    BigStack.Running<Integer> run = BigStack.start("cmod", () -> execute(args));
    // a server runs until it is stopped: the limit is for commands that finish
    long limit = args.length > 0 && args[0].equals("serve") ? 0 : timeLimitSeconds();
    boolean done = false;
    try {
      done = run.await(limit * 1000); // 0: no limit
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!done) {
      // stop a native ONNX Runtime run through its own terminate flag and wait for it to return:
      // exiting while native code runs would crash the JVM
      OnnxRunner.terminateAll();
      boolean idle = OnnxRunner.awaitIdle(30_000);
      try {
        run.await(idle ? 2_000 : 1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      System.out.flush();
      err.println(
          "error["
              + DiagnosticCode.LIMIT.id()
              + "]: cmod did not finish within "
              + limit
              + " s; stopped"
              + (idle ? "" : " (an ONNX Runtime run did not stop within 30 s of being told to)"));
      err.println("  = help: set CMOD_TIME_LIMIT (seconds) to allow longer");
      err.flush();
      System.exit(ExitCodes.ERRORS);
    }
    System.out.flush();
    System.exit(run.failure() != null ? handle(run.failure()) : run.value());
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
          err.println("usage: see `" + usageCommand(cl, ex.getCommandLine()) + " --help`");
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

  /**
   * A usage error of the command line: reported as picocli's own (exit code 2, with a pointer to
   * the help).
   */
  static CommandLine.ParameterException usageError(String message) {
    return new CommandLine.ParameterException(new CommandLine(new Main()), message);
  }

  /**
   * The command whose help to point at: the one the exception names, or, for an error a command
   * raised itself after parsing (through {@link #usageError}), the subcommand that was run.
   */
  private static String usageCommand(CommandLine root, CommandLine at) {
    String name = at.getCommandName();
    if (name.equals("cmod")) {
      CommandLine.ParseResult parsed = root.getParseResult();
      if (parsed != null && parsed.subcommand() != null) {
        name = parsed.subcommand().commandSpec().name();
      }
    }
    return name.equals("cmod") ? "cmod" : "cmod " + name;
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
    String internal = "error[" + DiagnosticCode.INTERNAL.id() + "]: internal compiler error: ";
    if (ex instanceof StackOverflowError) {
      err.println(internal + "the program nests too deeply for the compiler (stack overflow).");
    } else {
      err.println(internal + ex);
    }
    err.println(
        "  = note: this is a bug in cmod, not in your program; please report it with the source file.");
    if (System.getenv("CMOD_DEBUG") != null) {
      ex.printStackTrace(err);
    }
    return ExitCodes.INTERNAL;
  }
}
