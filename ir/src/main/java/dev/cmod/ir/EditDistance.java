package dev.cmod.ir;

/**
 * The edit distance behind every "did you mean" of cmod (names in a program, weights keys, labels,
 * adapter parameters): the optimal string alignment distance, where an insertion, a deletion, a
 * substitution or a swap of two adjacent characters costs 1. One implementation, so that every
 * suggestion ranks names the same way.
 */
public final class EditDistance {
  private EditDistance() {}

  /** The distance between {@code a} and {@code b}. */
  public static int of(String a, String b) {
    return of(a, b, Integer.MAX_VALUE - 1);
  }

  /**
   * The distance, or {@code limit + 1} as soon as it is known to exceed {@code limit} (bounded work
   * for long candidate lists).
   */
  public static int of(String a, String b, int limit) {
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
}
