package dev.cmod.ir.media;

import dev.cmod.ir.io.WavFiles;

/**
 * Sample-rate conversion by a rational factor with a polyphase FIR filter, the algorithm of SciPy's
 * {@code scipy.signal.resample_poly(x, up, down)} with its defaults (Kaiser window, β = 5, zero
 * padding), chosen because it is exact to state and to reproduce: converting {@code from} Hz to
 * {@code to} Hz reduces {@code up / down = to / from} by their greatest common divisor; the
 * low-pass filter has {@code 2·10·max(up, down) + 1} taps, a windowed sinc with cutoff {@code 1 /
 * max(up, down)} of the Nyquist frequency ({@code firwin}), normalized to unit gain at 0 Hz and
 * multiplied by {@code up}; the signal is conceptually upsampled by inserting {@code up - 1} zeros
 * after each sample, convolved with the filter, and every {@code down}-th sample kept, shifted so
 * the output is centred on the input. The output has {@code ceil(n · up / down)} samples; the sum
 * is taken in double. Rates are refused when the conversion is meaningless or its filter would be
 * too large (see {@link #check}).
 */
public final class PolyphaseResampler {
  /** The largest rate accepted, in Hz. */
  public static final int MAX_RATE = 1_000_000;

  /** The largest conversion factor, either way. */
  public static final int MAX_RATIO = 1000;

  /** The largest {@code max(up, down)} after reduction: its filter has 2 000 001 taps. */
  public static final int MAX_FACTOR = 100_000;

  private final int up;
  private final int down;
  private final double[] filter;
  private final int preRemove;

  private PolyphaseResampler(int up, int down) {
    this.up = up;
    this.down = down;
    int max = Math.max(up, down);
    int halfLen = 10 * max;
    double[] h = design(2 * halfLen + 1, 1.0 / max);
    int prePad = down - halfLen % down;
    double[] padded = new double[prePad + h.length];
    for (int i = 0; i < h.length; i++) {
      padded[prePad + i] = h[i] * up;
    }
    this.filter = padded;
    this.preRemove = (halfLen + prePad) / down;
  }

  /**
   * The resampler from {@code from} Hz to {@code to} Hz.
   *
   * @throws MediaException when {@link #check} refuses the rates
   */
  public static PolyphaseResampler of(int from, int to) {
    check(from, to);
    int g = gcd(from, to);
    return new PolyphaseResampler(to / g, from / g);
  }

  /**
   * Refuses rates that cannot be resampled: a rate that is not positive or above {@link #MAX_RATE},
   * a factor above {@link #MAX_RATIO} either way (8 Hz to 16 kHz is no recording), and rates whose
   * reduced ratio {@code up / down} has a term above {@link #MAX_FACTOR} (44 101 Hz to 1 000 000 Hz
   * would need a filter of nearly twenty million taps).
   *
   * @throws MediaException saying which of these it is
   */
  public static void check(int from, int to) {
    String help =
        "resample the file to a common rate first (e.g. sox in.wav -r 16000 out.wav), or declare"
            + " the rate the recordings have";
    for (int r : new int[] {from, to}) {
      if (r <= 0 || r > MAX_RATE) {
        throw new MediaException(
            "cannot resample from "
                + from
                + " Hz to "
                + to
                + " Hz: a rate must be 1 to "
                + MAX_RATE
                + " Hz",
            help);
      }
    }
    if ((long) from > (long) to * MAX_RATIO || (long) to > (long) from * MAX_RATIO) {
      throw new MediaException(
          "cannot resample from "
              + from
              + " Hz to "
              + to
              + " Hz: the rates differ by more than"
              + " a factor of "
              + MAX_RATIO,
          help);
    }
    int g = gcd(from, to);
    int max = Math.max(from / g, to / g);
    if (max > MAX_FACTOR) {
      throw new MediaException(
          "cannot resample from "
              + from
              + " Hz to "
              + to
              + " Hz: their ratio reduces to "
              + to / g
              + "/"
              + from / g
              + ", and a polyphase filter for it would have "
              + (20L * max + 1)
              + " taps (at most "
              + (20L * MAX_FACTOR + 1)
              + ")",
          help);
    }
  }

  /** The number of samples {@code n} input samples become: {@code ceil(n · up / down)}. */
  public long outputLength(long n) {
    return (n * up + down - 1) / down;
  }

  /** The samples of {@code x} at the new rate. */
  public float[] apply(float[] x) {
    if (up == down) {
      return x.clone();
    }
    long n = outputLength(x.length);
    if (n > WavFiles.MAX_SAMPLES) {
      throw new MediaException(
          "resampling " + x.length + " samples gives " + n + ", more than cmod handles",
          "cut the recording first");
    }
    float[] out = new float[(int) n];
    int len = filter.length;
    for (int j = 0; j < out.length; j++) {
      long t = (long) (j + preRemove) * down;
      // taps k = t - i·up with 0 <= k < len, for samples 0 <= i < x.length
      long iHi = Math.min(x.length - 1L, t / up);
      long iLo = Math.max(0, Math.floorDiv(t - len + up, up));
      double s = 0;
      for (long i = iLo; i <= iHi; i++) {
        s += x[(int) i] * filter[(int) (t - i * up)];
      }
      out[j] = (float) s;
    }
    return out;
  }

  /**
   * The low-pass filter of {@code taps} taps and cutoff {@code cutoff} (relative to Nyquist) that
   * {@code firwin(taps, cutoff, window=('kaiser', 5.0))} designs: {@code cutoff · sinc(cutoff · m)}
   * times the Kaiser window, {@code m} the distance from the middle tap, scaled to sum to 1.
   */
  static double[] design(int taps, double cutoff) {
    double alpha = 0.5 * (taps - 1);
    double[] h = new double[taps];
    double beta = 5.0;
    double i0beta = besselI0(beta);
    double sum = 0;
    for (int n = 0; n < taps; n++) {
      double m = n - alpha;
      double r = m / alpha;
      double win = besselI0(beta * Math.sqrt(1 - r * r)) / i0beta;
      h[n] = cutoff * sinc(cutoff * m) * win;
      sum += h[n];
    }
    for (int n = 0; n < taps; n++) {
      h[n] /= sum;
    }
    return h;
  }

  private static double sinc(double x) {
    if (x == 0) {
      return 1;
    }
    double px = Math.PI * x;
    return Math.sin(px) / px;
  }

  /** The modified Bessel function of the first kind, order 0, by its power series. */
  static double besselI0(double x) {
    double q = x * x / 4;
    double term = 1;
    double sum = 1;
    for (int k = 1; term > 1e-17 * sum; k++) {
      term *= q / ((double) k * k);
      sum += term;
    }
    return sum;
  }

  private static int gcd(int a, int b) {
    while (b != 0) {
      int t = a % b;
      a = b;
      b = t;
    }
    return a;
  }
}
