package dev.cmod.compiler.sema;

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

  /**
   * {@link #distance(String, String)}, or {@code limit + 1} as soon as it is known to exceed {@code
   * limit}.
   */
  static int distance(String a, String b, int limit) {
    if (Math.abs(a.length() - b.length()) > limit) {
      return limit + 1;
    }
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      int rowMin = Integer.MAX_VALUE;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
        rowMin = Math.min(rowMin, d[i][j]);
      }
      if (rowMin > limit + 1) {
        return limit + 1;
      }
    }
    return d[a.length()][b.length()];
  }

  /**
   * Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps cost
   * 1.
   */
  static int distance(String a, String b) {
    return distance(a, b, Integer.MAX_VALUE - 1);
  }
}
