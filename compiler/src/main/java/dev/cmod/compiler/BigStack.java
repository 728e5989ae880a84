package dev.cmod.compiler;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs work the way the {@code cmod} command runs the compiler: on a thread with a 512 MiB stack,
 * so that deep but legal programs do not overflow; and with a time limit, so that a hang is
 * reported instead of stalling the caller (the fuzz targets use it). Exceptions and errors of the
 * work are rethrown unchanged (their own stack traces).
 */
public final class BigStack {
  /** The CLI's compiler thread stack size. */
  public static final long STACK_BYTES = 1L << 29;

  /** Longest time one input may take before it counts as a hang. */
  public static final long LIMIT_SECONDS = Long.getLong("cmod.fuzz.hangSeconds", 20);

  private static ExecutorService pool = newPool();

  private BigStack() {}

  private static ExecutorService newPool() {
    return Executors.newSingleThreadExecutor(
        r -> {
          Thread t = new Thread(null, r, "cmod-fuzz", STACK_BYTES);
          t.setDaemon(true);
          return t;
        });
  }

  public static synchronized <T> T call(Callable<T> work) throws Exception {
    Future<T> f = pool.submit(work);
    try {
      return f.get(LIMIT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      pool.shutdownNow();
      pool = newPool(); // the stuck thread is abandoned (daemon)
      throw new AssertionError("hang: one input took more than " + LIMIT_SECONDS + " s");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof Error err) {
        throw err;
      }
      if (c instanceof Exception ex) {
        throw ex;
      }
      throw e;
    }
  }

  public static synchronized void run(ThrowingRunnable work) throws Exception {
    call(
        () -> {
          work.run();
          return null;
        });
  }

  public interface ThrowingRunnable {
    void run() throws Exception;
  }
}
