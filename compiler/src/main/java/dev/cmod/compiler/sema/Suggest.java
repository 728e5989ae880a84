package dev.cmod.compiler.sema;

import dev.cmod.ir.EditDistance;
import java.util.Collection;

/** "Did you mean" by edit distance. */
public final class Suggest {
  private Suggest() {}

  /** Longest word a suggestion is looked for (longer ones are not typos of a name). */
  static final int MAX_WORD = 64;

  /** Most candidates compared for one word. */
  static final int MAX_CANDIDATES = 20_000;

  /**
   * The closest candidate within a distance that looks like a typo, or null. Bounded work: words
   * over {@link #MAX_WORD} characters get no suggestion, candidates whose length differs by more
   * than the allowed distance are skipped without a comparison, at most {@link #MAX_CANDIDATES} are
   * compared, and each comparison stops once it exceeds the allowed distance.
   */
  public static String closest(String word, Collection<String> candidates) {
    if (word.length() < 2 || word.length() > MAX_WORD) {
      return null;
    }
    int limit = Math.max(1, word.length() / 3);
    String w = word.toLowerCase(java.util.Locale.ROOT);
    String best = null;
    int bestD = Integer.MAX_VALUE;
    int compared = 0;
    for (String c : candidates) {
      if (Math.abs(c.length() - word.length()) > limit) {
        continue;
      }
      if (++compared > MAX_CANDIDATES) {
        break;
      }
      int d = distance(w, c.toLowerCase(java.util.Locale.ROOT), limit);
      if (d < bestD || (d == bestD && best != null && c.compareTo(best) < 0)) {
        bestD = d;
        best = c;
      }
    }
    return bestD <= limit ? best : null;
  }

  /** The shared edit distance ({@link EditDistance}), bounded by {@code limit}. */
  static int distance(String a, String b, int limit) {
    return EditDistance.of(a, b, limit);
  }

  /** The shared edit distance ({@link EditDistance}). */
  static int distance(String a, String b) {
    return EditDistance.of(a, b);
  }
}
