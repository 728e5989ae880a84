package dev.cmod.fuzz;

import dev.cmod.cli.Main;
import dev.cmod.compiler.BigStack;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the {@code cmod} command line for tests: in this JVM through {@link Main#execute} (with
 * {@code Main.out}/{@code Main.err} swapped for buffers, on a 512 MiB-stack thread as {@code
 * Main.main} does), or in a child JVM with its own heap limit and working directory.
 */
final class Cli {
  /** One finished command: exit code, what it printed, and how long it took. */
  record Run(int exit, String out, String err, long millis) {
    String all() {
      return out + err;
    }
  }

  private Cli() {}

  static synchronized Run inProcess(String... args) throws Exception {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    Field out = Main.class.getDeclaredField("out");
    Field err = Main.class.getDeclaredField("err");
    out.setAccessible(true);
    err.setAccessible(true);
    Object oldOut = out.get(null);
    Object oldErr = err.get(null);
    out.set(null, new PrintStream(o, true, StandardCharsets.UTF_8));
    err.set(null, new PrintStream(e, true, StandardCharsets.UTF_8));
    try {
      long t0 = System.nanoTime();
      int code = BigStack.call(() -> Main.execute(args));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      return new Run(
          code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8), ms);
    } finally {
      out.set(null, oldOut);
      err.set(null, oldErr);
    }
  }

  /**
   * Runs {@code cmod args} in a child JVM with {@code -Xmx<heap>} in {@code cwd}; the exit code is
   * the process's.
   */
  static Run child(Path cwd, String heap, long timeoutSeconds, String... args)
      throws IOException, InterruptedException {
    return child(cwd, heap, List.of(), java.util.Map.of(), timeoutSeconds, args);
  }

  /**
   * Runs {@code cmod args} through {@code Main.main} (the launcher's path) in a child JVM: heap
   * {@code -Xmx<heap>}, extra JVM options, extra environment, working directory {@code cwd}; a
   * child that does not end within the timeout is killed (exit -1).
   */
  static Run child(
      Path cwd,
      String heap,
      List<String> jvmOpts,
      java.util.Map<String, String> env,
      long timeoutSeconds,
      String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heap);
    cmd.addAll(jvmOpts);
    cmd.add("-cp");
    // surefire runs tests from a manifest-only jar; the real class path is in
    // surefire.test.class.path
    cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
    cmd.add("dev.cmod.cli.Main");
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile("cmod-child", ".out");
    Path err = Files.createTempFile("cmod-child", ".err");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .directory(cwd.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile());
      pb.environment().putAll(env);
      long t0 = System.nanoTime();
      Process p = pb.start();
      boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
      if (!done) {
        p.destroyForcibly().waitFor();
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      return new Run(
          done ? p.exitValue() : -1,
          new String(Files.readAllBytes(out), StandardCharsets.UTF_8),
          new String(Files.readAllBytes(err), StandardCharsets.UTF_8),
          ms);
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
