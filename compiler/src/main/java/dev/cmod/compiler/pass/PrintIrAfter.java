package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.print.TextPrinter;
import java.io.PrintStream;

/**
 * Prints the IR text after every run of one named pass, or of every pass ({@code all}), the way
 * {@code -mlir-print-ir-after} does: to see what a pass did, diff two consecutive dumps.
 */
public final class PrintIrAfter implements PassInstrument {
  /** The name that selects every pass. */
  public static final String ALL = "all";

  private final String pass;
  private final PrintStream out;

  /**
   * @throws IllegalArgumentException when {@code pass} is neither {@link #ALL} nor a known pass
   */
  public PrintIrAfter(String pass, PrintStream out) {
    if (!ALL.equals(pass) && !Pipeline.knownPasses().contains(pass)) {
      throw new IllegalArgumentException(PassManager.unknownPass(pass));
    }
    this.pass = pass;
    this.out = out;
  }

  @Override
  public void afterPass(PassRun run, Graph g) {
    if (ALL.equals(pass) || pass.equals(run.pass())) {
      out.print(
          "// IR of "
              + g.name()
              + " after "
              + run.pass()
              + " (round "
              + run.round()
              + (run.changed() ? ", changed" : ", unchanged")
              + ")\n"
              + TextPrinter.print(g));
      out.flush();
    }
  }
}
