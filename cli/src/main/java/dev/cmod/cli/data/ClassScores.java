package dev.cmod.cli.data;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.cmod.ir.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A classifier's output as a person reads it: the {@code k} best classes of each example, with
 * their labels and scores. Scores are either turned into probabilities with a softmax over the
 * classes ({@link Scale#SOFTMAX}, for a model that outputs logits) or reported as the model gave
 * them ({@link Scale#RAW}, for a model that ends in its own softmax or sigmoid, or when the raw
 * margin is what matters); the ranking is the same either way.
 */
public final class ClassScores {
  private ClassScores() {}

  /** How the reported scores are made from the output. */
  public enum Scale {
    /** {@code exp(s_i) / sum_j exp(s_j)} over the classes of one example. */
    SOFTMAX,
    /** The output values as they are. */
    RAW
  }

  /** One ranked class: its index, its label and its score. */
  public record Ranked(int index, String label, float score) {}

  /**
   * The {@code k} best classes of every example of {@code scores} ({@code [C]}: one example, {@code
   * [N, C]}: one list per row), best first; equal scores keep the class order. {@code k} larger
   * than the class count gives every class.
   *
   * @throws DataException when the tensor is not {@code [C]} or {@code [N, C]} floats, or its class
   *     count differs from the label file's
   */
  public static List<List<Ranked>> topK(Tensor scores, LabelFile labels, int k, Scale scale) {
    long[] s = scores.shape();
    if (!scores.isFloat() || (s.length != 1 && s.length != 2)) {
      throw new DataException(
          "class scores decode from floats of shape [C] or [N, C]; this output is "
              + scores.dtype()
              + Arrays.toString(s),
          "decode a classifier's scores (or logits) output");
    }
    int c = (int) s[s.length - 1];
    if (c != labels.size()) {
      throw new DataException(
          "the output scores " + c + " classes, the label file names " + labels.size(),
          "give the label file of this model");
    }
    if (k < 1) {
      throw new IllegalArgumentException("top-" + k);
    }
    int n = s.length == 1 ? 1 : (int) s[0];
    float[] all = scores.floats();
    List<List<Ranked>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] row = Arrays.copyOfRange(all, i * c, (i + 1) * c);
      float[] shown = scale == Scale.SOFTMAX ? softmax(row) : row;
      Integer[] order = new Integer[c];
      for (int j = 0; j < c; j++) {
        order[j] = j;
      }
      // descending by the output (NaN last); the sort is stable, so ties keep the class order
      Arrays.sort(order, Comparator.comparingDouble((Integer j) -> nanLow(row[j])).reversed());
      List<Ranked> best = new ArrayList<>();
      for (int j = 0; j < Math.min(k, c); j++) {
        best.add(new Ranked(order[j], labels.label(order[j]), shown[order[j]]));
      }
      out.add(best);
    }
    return out;
  }

  private static double nanLow(float v) {
    return Float.isNaN(v) ? Double.NEGATIVE_INFINITY : v;
  }

  /** A numerically stable softmax (the maximum subtracted first, sums in double). */
  static float[] softmax(float[] row) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : row) {
      max = Math.max(max, v);
    }
    double sum = 0;
    double[] e = new double[row.length];
    for (int i = 0; i < row.length; i++) {
      e[i] = Math.exp(row[i] - max);
      sum += e[i];
    }
    float[] out = new float[row.length];
    for (int i = 0; i < row.length; i++) {
      out[i] = (float) (e[i] / sum);
    }
    return out;
  }

  /**
   * The ranking as JSON (UTF-8): for one example a list of {@code {"label", "index", "score"}}
   * objects, best first; for a batch (or more than one example) a list of such lists, in example
   * order.
   */
  public static byte[] toJson(List<List<Ranked>> ranked, boolean batch) {
    JsonArray examples = new JsonArray();
    for (List<Ranked> r : ranked) {
      JsonArray list = new JsonArray();
      for (Ranked x : r) {
        JsonObject o = new JsonObject();
        o.addProperty("label", x.label());
        o.addProperty("index", x.index());
        o.addProperty("score", x.score());
        list.add(o);
      }
      examples.add(list);
    }
    JsonElement doc = batch || examples.size() != 1 ? examples : examples.get(0);
    String json = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(doc);
    return (json + "\n").getBytes(StandardCharsets.UTF_8);
  }

  /** The index of the largest value along the last axis (the first one on ties), per position. */
  static long[] argmaxLastAxis(Tensor t) {
    long[] s = t.shape();
    int v = (int) s[s.length - 1];
    if (v == 0) {
      throw new DataException("the output has no scores to choose from (its last axis is 0)", null);
    }
    float[] f = t.floats();
    int rows = f.length / v;
    long[] out = new long[rows];
    for (int r = 0; r < rows; r++) {
      int best = 0;
      for (int j = 1; j < v; j++) {
        if (f[r * v + j] > f[r * v + best]) {
          best = j;
        }
      }
      out[r] = best;
    }
    return out;
  }
}
