package dev.cmod.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The large-stack runner: deep recursion fits, results and throwables come back to the starter. */
class BigStackTest {
  private static int depth(int n) {
    return n == 0 ? 0 : 1 + depth(n - 1);
  }

  @Test
  void recursionThatOverflowsADefaultStackFits() throws Exception {
    int n = 1_000_000;
    Throwable[] onDefault = new Throwable[1];
    Thread plain =
        new Thread(
            () -> {
              try {
                depth(n);
              } catch (StackOverflowError e) {
                onDefault[0] = e;
              }
            });
    plain.start();
    plain.join();
    assertInstanceOf(
        StackOverflowError.class, onDefault[0], "the oracle: a default stack overflows");
    assertEquals(n, BigStack.call(() -> depth(n)));
  }

  @Test
  void theWorksThrowableIsKeptAndRethrownUnchanged() throws Exception {
    IllegalStateException boom = new IllegalStateException("boom");
    BigStack.Running<Object> r =
        BigStack.start(
            "t",
            () -> {
              throw boom;
            });
    assertTrue(r.await(0));
    assertSame(boom, r.failure());
    assertNull(r.value());
    assertSame(
        boom,
        assertThrows(
            IllegalStateException.class,
            () ->
                BigStack.call(
                    () -> {
                      throw boom;
                    })));
  }

  @Test
  void awaitReturnsFalseWhileTheWorkRunsAndInterruptStopsIt() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    BigStack.Running<Boolean> r = BigStack.start("t", () -> never.await(1, TimeUnit.HOURS));
    assertFalse(r.await(50));
    r.interrupt();
    assertTrue(r.await(10_000));
    assertInstanceOf(InterruptedException.class, r.failure());
  }
}
