package dev.cmod.testkit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.AnnotatedElement;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The tests of the annotated class (or the annotated test) need {@link #value()}. Where one is
 * missing each such test is reported as skipped with the reason (so surefire counts them, and
 * {@link SkipReport} prints why), and a {@code @BeforeAll} of the class that calls {@link
 * Need#require()} does not empty the class: its abort is set aside and the tests are disabled one
 * by one. In CI ({@link Need#ci()}) the tests run instead and the missing need fails them, before
 * any {@code @BeforeAll} or {@code @BeforeEach} method.
 *
 * <p>It lives in the {@code testkit} module, which every module's tests depend on (test scope).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(Requires.Check.class)
public @interface Requires {
  Need[] value();

  /** The extension behind {@link Requires}. */
  final class Check
      implements ExecutionCondition,
          BeforeAllCallback,
          BeforeEachCallback,
          LifecycleMethodExecutionExceptionHandler {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      if (context.getTestMethod().isEmpty()) {
        // classes stay enabled: each test is disabled on its own, so that surefire counts them
        return ConditionEvaluationResult.enabled("needs are checked per test");
      }
      List<String> missing =
          needs(context).stream().filter(n -> !n.available()).map(Need::reason).toList();
      if (missing.isEmpty()) {
        return ConditionEvaluationResult.enabled("every need is met");
      }
      if (Need.ci()) {
        return ConditionEvaluationResult.enabled("CI: a missing need fails the test");
      }
      return ConditionEvaluationResult.disabled(String.join("; ", missing));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
      if (Need.ci()) {
        classNeeds(context).forEach(Need::require);
      }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
      if (Need.ci()) {
        needs(context).forEach(Need::require);
      }
    }

    @Override
    public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable t)
        throws Throwable {
      if (t instanceof Need.Missing m && !Need.ci() && classNeeds(context).contains(m.need())) {
        return; // the class's tests need it too, so the condition above disables each with the
        // reason
      }
      throw t;
    }

    private static Set<Need> classNeeds(ExtensionContext context) {
      Set<Need> out = new LinkedHashSet<>();
      for (Class<?> c = context.getRequiredTestClass(); c != null; c = c.getEnclosingClass()) {
        add(out, c);
      }
      return out;
    }

    private static Set<Need> needs(ExtensionContext context) {
      Set<Need> out = new LinkedHashSet<>();
      context.getTestMethod().ifPresent(m -> add(out, m));
      context.getTestClass().ifPresent(c -> out.addAll(classNeeds(context)));
      return out;
    }

    private static void add(Set<Need> out, AnnotatedElement e) {
      Optional<Requires> r = AnnotationSupport.findAnnotation(e, Requires.class);
      r.ifPresent(a -> out.addAll(List.of(a.value())));
    }
  }
}
