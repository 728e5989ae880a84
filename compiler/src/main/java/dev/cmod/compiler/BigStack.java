package dev.cmod.compiler;

import java.util.concurrent.Callable;

/**
 * The one way cmod starts a thread for deep work: a daemon thread with a 512 MiB stack, so that
 * deep but legal programs do not overflow a default stack, whose result or throwable is kept for
 * the starter instead of reaching the thread's uncaught-exception handler. The {@code cmod} command
 * runs each command on one ({@code Main.main}), {@link Compilation} runs each compilation on one
 * (and turns what it threw into a diagnostic), and the fuzz targets run each input on one with a
 * time limit ({@link #call}), so that a hang is reported instead of stalling the test.
 */
public final class BigStack {
  /** Stack size of every thread started here. */
  public static final long STACK_BYTES = 1L << 29;

  /** Longest time one input of {@link #call} may take before it counts as a hang. */
  public static final long LIMIT_SECONDS = Long.getLong("cmod.fuzz.hangSeconds", 20);

  private BigStack() {}

  /**
   * Work running on its own large-stack thread.
   *
   * @param <T> what the work returns
   */
  public static final class Running<T> {
    private final Thread thread;
    private volatile T value;
    private volatile Throwable failure;

    private Running(String name, Callable<T> work) {
      thread =
          new Thread(
              null,
              () -> {
                try {
                  value = work.call();
                } catch (Throwable e) { // NOPMD: kept for the starter, who decides what it means
                  failure = e;
                }
              },
              name,
              STACK_BYTES);
      thread.setDaemon(true); // abandoned work (a hang, a cancelled compilation) must not keep
      // the process alive
    }

    /**
     * Waits until the work ends, at most {@code millis} (0: without a limit); true when it ended.
     */
    public boolean await(long millis) throws InterruptedException {
      thread.join(millis);
      return !thread.isAlive();
    }

    /** Asks the work to stop (the compiler checks for the interrupt as it builds the graph). */
    public void interrupt() {
      thread.interrupt();
    }

    /** What the work returned; null while it runs or when it threw. */
    public T value() {
      return value;
    }

    /** What the work threw; null while it runs or when it returned. */
    public Throwable failure() {
      return failure;
    }
  }

  /** Starts {@code work} on a new large-stack daemon thread named {@code name}. */
  public static <T> Running<T> start(String name, Callable<T> work) {
    Running<T> r = new Running<>(name, work);
    r.thread.start();
    return r;
  }

  /**
   * Runs {@code work} on a large-stack thread and returns its result, at most {@link
   * #LIMIT_SECONDS}; past that the thread is interrupted and abandoned and an AssertionError says
   * so. What the work throws is rethrown unchanged (its own stack trace).
   */
  public static <T> T call(Callable<T> work) throws Exception {
    Running<T> r = start("cmod-fuzz", work);
    if (!r.await(LIMIT_SECONDS * 1000)) {
      r.interrupt();
      throw new AssertionError("hang: one input took more than " + LIMIT_SECONDS + " s");
    }
    Throwable c = r.failure();
    if (c instanceof Error err) {
      throw err;
    }
    if (c instanceof Exception ex) {
      throw ex;
    }
    if (c != null) {
      throw new IllegalStateException(c);
    }
    return r.value();
  }

  /** As {@link #call}, for work without a result. */
  public static void run(ThrowingRunnable work) throws Exception {
    call(
        () -> {
          work.run();
          return null;
        });
  }

  /** Work without a result that may throw. */
  public interface ThrowingRunnable {
    void run() throws Exception;
  }
}
