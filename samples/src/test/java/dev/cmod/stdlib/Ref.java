package dev.cmod.stdlib;

/** Plain-loop reference math for the std.nn tests, written independently of the interpreter. */
final class Ref {
  private Ref() {}

  /** rows [n][in] @ w [in][out] + b. */
  static double[][] linear(double[][] x, double[][] w, double[] b) {
    int n = x.length;
    int in = w.length;
    int out = w[0].length;
    double[][] y = new double[n][out];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < out; j++) {
        double s = b == null ? 0 : b[j];
        for (int k = 0; k < in; k++) {
          s += x[i][k] * w[k][j];
        }
        y[i][j] = s;
      }
    }
    return y;
  }

  static double[][] layerNorm(double[][] x, double[] g, double[] b, double eps) {
    double[][] y = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double mean = 0;
      for (double v : x[i]) {
        mean += v;
      }
      mean /= x[i].length;
      double var = 0;
      for (double v : x[i]) {
        var += (v - mean) * (v - mean);
      }
      var /= x[i].length;
      y[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        y[i][j] = (x[i][j] - mean) / Math.sqrt(var + eps) * g[j] + b[j];
      }
    }
    return y;
  }

  static double[][] rmsNorm(double[][] x, double[] g, double eps) {
    double[][] y = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double ms = 0;
      for (double v : x[i]) {
        ms += v * v;
      }
      ms /= x[i].length;
      y[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        y[i][j] = x[i][j] / Math.sqrt(ms + eps) * g[j];
      }
    }
    return y;
  }

  /** Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7). */
  static double erf(double x) {
    double t = 1 / (1 + 0.3275911 * Math.abs(x));
    double y =
        1
            - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
                    + 0.254829592)
                * t
                * Math.exp(-x * x);
    return x >= 0 ? y : -y;
  }

  static double[][] gelu(double[][] x) {
    double[][] y = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      y[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        y[i][j] = 0.5 * x[i][j] * (1 + erf(x[i][j] / Math.sqrt(2)));
      }
    }
    return y;
  }

  static double[][] add(double[][] a, double[][] b) {
    double[][] y = new double[a.length][];
    for (int i = 0; i < a.length; i++) {
      y[i] = new double[a[i].length];
      for (int j = 0; j < a[i].length; j++) {
        y[i][j] = a[i][j] + b[i][j];
      }
    }
    return y;
  }

  /**
   * Multi-head self-attention of one sequence x [s][d] with projections (weights [d][d], biases
   * [d]).
   */
  static double[][] mha(double[][] x, double[][][] w, double[][] b, int heads, boolean causal) {
    double[][] q = linear(x, w[0], b[0]);
    double[][] k = linear(x, w[1], b[1]);
    double[][] v = linear(x, w[2], b[2]);
    int s = x.length;
    int d = x[0].length;
    int hd = d / heads;
    double[][] ctx = new double[s][d];
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < s; i++) {
        double[] sc = new double[s];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < s; j++) {
          if (causal && j > i) {
            sc[j] = Double.NEGATIVE_INFINITY;
            continue;
          }
          double dot = 0;
          for (int e = 0; e < hd; e++) {
            dot += q[i][h * hd + e] * k[j][h * hd + e];
          }
          sc[j] = dot / Math.sqrt(hd);
          max = Math.max(max, sc[j]);
        }
        double sum = 0;
        for (int j = 0; j < s; j++) {
          sc[j] = Math.exp(sc[j] - max);
          sum += sc[j];
        }
        for (int j = 0; j < s; j++) {
          for (int e = 0; e < hd; e++) {
            ctx[i][h * hd + e] += sc[j] / sum * v[j][h * hd + e];
          }
        }
      }
    }
    return linear(ctx, w[3], b[3]);
  }
}
