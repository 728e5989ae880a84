package dev.cmod.cli;

import dev.cmod.compiler.pass.PassInstrument;
import dev.cmod.compiler.pass.PassRun;
import dev.cmod.ir.graph.Graph;
import java.io.PrintStream;

/**
 * The line that says what cmod is doing while it works on a big model: on a terminal only (never in
 * a pipe, a file or a test, where it would be noise), rewritten in place on standard error and
 * cleared when the work is done. {@code CMOD_PROGRESS=0} turns it off, {@code CMOD_PROGRESS=1} on
 * (for a terminal the JVM does not recognise).
 */
final class Progress implements PassInstrument {
  private final PrintStream err;
  private final long start = System.nanoTime();
  private boolean shown;

  Progress(PrintStream err) {
    this.err = err;
  }

  /** The progress line for this process's terminal, or null where there is none. */
  static Progress forTerminal() {
    String env = System.getenv("CMOD_PROGRESS");
    boolean on =
        env != null
            ? env.equals("1")
            : System.console() != null && !"dumb".equals(System.getenv("TERM"));
    return on && Main.err == System.err ? new Progress(System.err) : null;
  }

  /** Shows {@code what} with the time since the command started. */
  synchronized void step(String what) {
    long ms = (System.nanoTime() - start) / 1_000_000;
    err.print("\r\033[K" + "cmod: " + what + " (" + (ms / 100) / 10.0 + " s)");
    err.flush();
    shown = true;
  }

  /** Clears the line, so that what follows starts on a clean one. */
  synchronized void done() {
    if (shown) {
      err.print("\r\033[K");
      err.flush();
      shown = false;
    }
  }

  @Override
  public void afterPass(PassRun run, Graph g) {
    step("optimizing: " + run.pass() + " done, " + g.nodeCount() + " nodes");
  }
}
