package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Verifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a {@link Pipeline} over a graph. After a pass that changed something it removes dead code
 * (also when the {@code dce} steps are disabled), so no pass needs to; it verifies the IR after
 * every pass when asked and whenever Java assertions are on (as under the test runner), naming the
 * pass that broke it; and it reports each pass run to the instruments. Disabled passes are skipped
 * as if absent.
 */
public final class PassManager {
  private static final boolean ASSERTIONS = PassManager.class.desiredAssertionStatus();

  private final Pipeline pipeline;
  private final PassOptions options;
  private final boolean verify;

  /**
   * @throws IllegalArgumentException when a disabled pass is not a known pass
   */
  public PassManager(Pipeline pipeline, PassOptions options) {
    for (String d : options.disabled()) {
      if (!Pipeline.knownPasses().contains(d)) {
        throw new IllegalArgumentException(unknownPass(d));
      }
    }
    this.pipeline = pipeline;
    this.options = options;
    this.verify = options.verifyEach() || ASSERTIONS;
  }

  /** The message for a pass name that is not one: it lists the names there are. */
  public static String unknownPass(String name) {
    return "unknown pass '"
        + name
        + "'; the passes are "
        + String.join(", ", Pipeline.knownPasses());
  }

  /** Runs the pipeline on {@code g}. */
  public void run(Graph g) {
    for (Pipeline.Stage s : pipeline.stages()) {
      if (s instanceof Pipeline.Step st) {
        runPass(st.pass(), g, 1);
      } else if (s instanceof Pipeline.Repeat r) {
        for (int round = 1; round <= r.maxRounds(); round++) {
          boolean changed = false;
          for (Pipeline.Step st : r.steps()) {
            changed |= runPass(st.pass(), g, round);
          }
          if (!changed) {
            break;
          }
        }
      }
    }
    for (PassInstrument i : options.instruments()) {
      i.afterPipeline(g);
    }
  }

  private boolean runPass(Pass p, Graph g, int round) {
    if (options.disabled().contains(p.name()) && !p.required()) {
      return false;
    }
    Recorder rec = new Recorder();
    int before = g.nodeCount();
    long start = System.nanoTime();
    boolean changed = p.run(g, rec);
    if (changed && p != Pipeline.DCE && p.leavesDeadNodes()) {
      // the cleanup belongs to the pass that left the dead nodes; it runs even with dce disabled,
      // since a rewrite may leave a dead node ill-typed (parameter folding re-types the parameter
      // it reuses, under the node it folded) and only removing it makes the graph valid again
      Pipeline.DCE.run(g, rec);
    }
    long nanos = System.nanoTime() - start;
    if (verify) {
      List<String> problems = Verifier.verify(g);
      if (!problems.isEmpty()) {
        throw new IllegalStateException(
            "the IR failed verification after pass '"
                + p.name()
                + "' (round "
                + round
                + "): "
                + String.join("; ", problems));
      }
    }
    PassRun run =
        new PassRun(p.name(), round, changed, nanos, rec.counts, rec.notes, before, g.nodeCount());
    for (PassInstrument i : options.instruments()) {
      i.afterPass(run, g);
    }
    return changed;
  }

  /** Collects one pass run's counts and notes. */
  private static final class Recorder implements PassContext {
    final Map<String, Integer> counts = new LinkedHashMap<>();
    final List<String> notes = new ArrayList<>();

    @Override
    public void count(String what, int n) {
      counts.merge(what, n, Integer::sum);
    }

    @Override
    public void note(String line) {
      notes.add(line);
    }
  }
}
