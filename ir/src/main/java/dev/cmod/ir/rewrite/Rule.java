package dev.cmod.ir.rewrite;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * One named local rewrite: where it applies (a {@link Pattern}), when (a cheap predicate over the
 * match, checked before any work is done) and what replaces the match (a {@link Rewrite} that only
 * changes the graph through the {@link Rewriter}). Rules are stateless values, meant to be declared
 * once as named constants in catalogue classes and grouped into {@link RuleSet}s; the name is what
 * statistics, change logs and tests refer to.
 */
public final class Rule {
  /** Builds the replacement of a match; returns false when it decided not to change anything. */
  @FunctionalInterface
  public interface Rewrite {
    boolean apply(Match m, Rewriter rw);
  }

  private final String name;
  private final Pattern pattern;
  private final Predicate<Match> predicate;
  private final Rewrite rewrite;

  private Rule(String name, Pattern pattern, Predicate<Match> predicate, Rewrite rewrite) {
    this.name = Objects.requireNonNull(name);
    this.pattern = Objects.requireNonNull(pattern);
    this.predicate = Objects.requireNonNull(predicate);
    this.rewrite = Objects.requireNonNull(rewrite);
  }

  public static Rule of(String name, Pattern pattern, Predicate<Match> predicate, Rewrite rewrite) {
    return new Rule(name, pattern, predicate, rewrite);
  }

  /** A rule whose pattern says everything: no predicate beyond it. */
  public static Rule of(String name, Pattern pattern, Rewrite rewrite) {
    return new Rule(name, pattern, m -> true, rewrite);
  }

  /**
   * A rule that replaces the root's output by the value captured as {@code capture}, such as {@code
   * x * 1 -> x}.
   */
  public static Rule forward(String name, Pattern pattern, String capture) {
    return new Rule(name, pattern, m -> true, (m, rw) -> rw.replaceOp(m.root(), m.value(capture)));
  }

  public String name() {
    return name;
  }

  public Pattern pattern() {
    return pattern;
  }

  /** Whether the pattern matches and the predicate holds; binds the captures of {@code m}. */
  boolean matches(Match m) {
    return pattern.match(m.root().out(), m) && predicate.test(m);
  }

  boolean rewrite(Match m, Rewriter rw) {
    return rewrite.apply(m, rw);
  }

  @Override
  public String toString() {
    return name;
  }
}
