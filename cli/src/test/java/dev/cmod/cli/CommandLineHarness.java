package dev.cmod.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Runs command lines in process, as the tests of the command line need: {@link #run} calls {@link
 * Main#execute} with stdout and stderr captured, {@link #out} and {@link #err} give what the last
 * run printed.
 */
abstract class CommandLineHarness {
  private final ByteArrayOutputStream outBuf = new ByteArrayOutputStream();
  private final ByteArrayOutputStream errBuf = new ByteArrayOutputStream();

  @BeforeEach
  void capture() {
    Main.out = new PrintStream(outBuf, true, StandardCharsets.UTF_8);
    Main.err = new PrintStream(errBuf, true, StandardCharsets.UTF_8);
  }

  @AfterEach
  void restore() {
    Main.out = System.out;
    Main.err = System.err;
  }

  /** Runs {@code cmod ARGS}; the exit code. */
  int run(String... args) {
    outBuf.reset();
    errBuf.reset();
    return Main.execute(args);
  }

  String out() {
    return outBuf.toString(StandardCharsets.UTF_8);
  }

  String err() {
    return errBuf.toString(StandardCharsets.UTF_8);
  }
}
