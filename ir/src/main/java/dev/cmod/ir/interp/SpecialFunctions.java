package dev.cmod.ir.interp;

/** Special functions missing from {@link Math}, in double precision. */
public final class SpecialFunctions {
  private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);
  private static final double SQRT_PI = Math.sqrt(Math.PI);

  /** Below this |x| erf uses its series; above it erfc uses its continued fraction. */
  private static final double SWITCH = 2.5;

  private SpecialFunctions() {}

  /**
   * The error function, to about 1e-15 relative. Uses the series erf(x) = 2/sqrt(pi) exp(-x^2) sum
   * 2^n x^(2n+1) / (1*3*...*(2n+1)) (all terms positive, so no cancellation) for |x| &lt; 2.5 and 1
   * - erfc(x) from the continued fraction otherwise.
   */
  public static double erf(double x) {
    if (Double.isNaN(x)) {
      return Double.NaN;
    }
    double ax = Math.abs(x);
    double r = ax < SWITCH ? erfSeries(ax) : 1.0 - erfcFraction(ax);
    return x < 0 ? -r : (x == 0 ? x : r);
  }

  /** The complementary error function 1 - erf(x), accurate in the far tails too. */
  public static double erfc(double x) {
    if (Double.isNaN(x)) {
      return Double.NaN;
    }
    double ax = Math.abs(x);
    double tail = ax < SWITCH ? 1.0 - erfSeries(ax) : erfcFraction(ax);
    return x < 0 ? 2.0 - tail : tail;
  }

  private static double erfSeries(double x) {
    double x2 = x * x;
    double term = x;
    double sum = x;
    for (int n = 1; n < 200; n++) {
      term *= 2.0 * x2 / (2 * n + 1);
      sum += term;
      if (term <= 1e-17 * sum) {
        break;
      }
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  }

  /**
   * erfc(x) for x &ge; 2.5 from the continued fraction erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x
   * + 1/(x + (3/2)/(x + ...)))), evaluated backwards.
   */
  private static double erfcFraction(double x) {
    if (x > 27) {
      return 0.0; // exp(-x^2) underflows
    }
    double t = x;
    for (int n = 60; n >= 1; n--) {
      t = x + (n / 2.0) / t;
    }
    return Math.exp(-x * x) / (SQRT_PI * t);
  }

  /** The inverse hyperbolic sine, through log1p so that small |x| keeps its digits. */
  public static double asinh(double x) {
    double ax = Math.abs(x);
    if (Double.isInfinite(ax)) {
      return x;
    }
    // asinh(a) = log(a + sqrt(a^2 + 1)) = log1p(a + a^2 / (1 + sqrt(a^2 + 1)))
    double r =
        ax > 1e150
            ? Math.log(ax) + Math.log(2)
            : Math.log1p(ax + ax * ax / (1 + Math.sqrt(ax * ax + 1)));
    return x < 0 ? -r : (x == 0 ? x : r);
  }

  /** The inverse hyperbolic cosine: NaN below 1. */
  public static double acosh(double x) {
    if (!(x >= 1)) {
      return Double.NaN;
    }
    if (x > 1e150) {
      return Math.log(x) + Math.log(2);
    }
    // acosh(x) = log1p(t + sqrt(t^2 + 2t)) with t = x - 1, exact near 1
    double t = x - 1;
    return Math.log1p(t + Math.sqrt(t * t + 2 * t));
  }

  /** The inverse hyperbolic tangent: +-infinity at +-1, NaN beyond. */
  public static double atanh(double x) {
    double ax = Math.abs(x);
    if (!(ax <= 1)) {
      return Double.NaN;
    }
    // atanh(a) = 0.5 log((1 + a) / (1 - a)) = 0.5 log1p(2a / (1 - a))
    double r = 0.5 * Math.log1p(2 * ax / (1 - ax));
    return x < 0 ? -r : (x == 0 ? x : r);
  }
}
