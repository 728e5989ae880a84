package dev.cmod.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Makes every skip visible in the build output, with its reason. Surefire counts skipped tests but
 * prints no reason, and it reports a class whose {@code @BeforeAll} was aborted by an assumption as
 * "Tests run: 0, Skipped: 0". This JUnit Platform listener (registered in {@code
 * META-INF/services/org.junit.platform.launcher.TestExecutionListener} of the testkit jar) prints
 * one line per skipped or aborted test or container, {@code SKIPPED class[#method]: reason}, and at
 * the end of the run a summary per test class: how many tests were not run and why.
 *
 * <p>It lives in the {@code testkit} module, which every module's tests depend on (test scope).
 */
public final class SkipReport implements TestExecutionListener {
  private volatile TestPlan plan;
  private final Set<String> started = ConcurrentHashMap.newKeySet();

  /** class name -> reason -> number of tests not run for that reason. */
  private final Map<String, Map<String, Integer>> skips =
      Collections.synchronizedMap(new TreeMap<>());

  @Override
  public void testPlanExecutionStarted(TestPlan testPlan) {
    plan = testPlan;
  }

  @Override
  public void executionStarted(TestIdentifier id) {
    started.add(id.getUniqueId());
  }

  @Override
  public void executionSkipped(TestIdentifier id, String reason) {
    record(id, "SKIPPED", reason == null || reason.isBlank() ? "(no reason given)" : reason);
  }

  @Override
  public void executionFinished(TestIdentifier id, TestExecutionResult result) {
    if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
      String reason =
          result
              .getThrowable()
              .map(t -> t.getMessage() != null ? t.getMessage() : t.toString())
              .orElse("(aborted, no reason given)");
      record(id, "SKIPPED (aborted)", reason);
    }
  }

  @Override
  public void testPlanExecutionFinished(TestPlan testPlan) {
    List<String> lines = new ArrayList<>();
    int total = 0;
    synchronized (skips) {
      for (Map.Entry<String, Map<String, Integer>> c : skips.entrySet()) {
        for (Map.Entry<String, Integer> r : c.getValue().entrySet()) {
          lines.add(String.format("  %-60s %3d not run: %s", c.getKey(), r.getValue(), r.getKey()));
          total += r.getValue();
        }
      }
    }
    if (lines.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    sb.append("SKIP SUMMARY: ")
        .append(total)
        .append(total == 1 ? " test" : " tests")
        .append(" not run (skipped, disabled or aborted), by class and reason:\n");
    lines.forEach(l -> sb.append(l).append('\n'));
    System.out.print(sb);
    System.out.flush();
  }

  /**
   * Prints the skip and counts the tests it covers (a container counts its tests that never
   * started).
   */
  private void record(TestIdentifier id, String kind, String reason) {
    int tests = id.isTest() ? 1 : notStartedTestsUnder(id);
    String cls = className(id).orElse(id.getDisplayName());
    String where = label(id);
    System.out.println(
        kind
            + " "
            + where
            + ": "
            + reason
            + (id.isContainer()
                ? " [" + tests + (tests == 1 ? " test" : " tests") + " not run]"
                : ""));
    System.out.flush();
    skips.computeIfAbsent(cls, k -> new LinkedHashMap<>()).merge(reason, tests, Integer::sum);
  }

  private int notStartedTestsUnder(TestIdentifier id) {
    TestPlan p = plan;
    if (p == null) {
      return 0;
    }
    int n = 0;
    for (TestIdentifier d : p.getDescendants(id)) {
      if (d.isTest() && !started.contains(d.getUniqueId())) {
        n++;
      }
    }
    return n;
  }

  private Optional<String> className(TestIdentifier id) {
    for (TestIdentifier at = id; at != null; at = parent(at)) {
      Optional<TestSource> s = at.getSource();
      if (s.isPresent() && s.get() instanceof MethodSource m) {
        return Optional.of(m.getClassName());
      }
      if (s.isPresent() && s.get() instanceof ClassSource c) {
        return Optional.of(c.getClassName());
      }
    }
    return Optional.empty();
  }

  /** {@code class}, {@code class#method} or {@code class#method [dynamic test name]}. */
  private String label(TestIdentifier id) {
    for (TestIdentifier at = id; at != null; at = parent(at)) {
      Optional<TestSource> s = at.getSource();
      if (s.isPresent() && s.get() instanceof MethodSource m) {
        return m.getClassName()
            + "#"
            + m.getMethodName()
            + (at == id ? "" : " [" + id.getDisplayName() + "]");
      }
      if (s.isPresent() && s.get() instanceof ClassSource c) {
        return c.getClassName() + (at == id ? "" : " [" + id.getDisplayName() + "]");
      }
    }
    return id.getDisplayName();
  }

  private TestIdentifier parent(TestIdentifier id) {
    TestPlan p = plan;
    return p == null ? null : p.getParent(id).orElse(null);
  }
}
