package dev.cmod.cli.data;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The names of a model's classes, one per line: line {@code i} (from 0) names class {@code i}. It
 * serves both directions — {@code --input species=cat} becomes the index of {@code cat}, and an
 * output's class scores become labels — so a class is named the same way wherever it appears.
 *
 * <p>A label is its line with the surrounding white space removed (a label may contain spaces:
 * "golden retriever"). A byte order mark and {@code \r\n} line ends are accepted. Blank lines at
 * the end of the file are ignored; a blank line between labels is an error, because skipping it
 * would shift every later class by one and giving it an index would make an unnamed class. A label
 * on two lines is an error too: it could only ever name one of them.
 */
public final class LabelFile {
  private final Path file;
  private final List<String> labels;
  private final Map<String, Integer> index = new HashMap<>();

  private LabelFile(Path file, List<String> labels) {
    this.file = file;
    this.labels = List.copyOf(labels);
    for (int i = 0; i < labels.size(); i++) {
      index.put(labels.get(i), i);
    }
  }

  /**
   * Reads a label file.
   *
   * @throws DataException when it cannot be read, is empty, has a blank line between labels or a
   *     label twice
   */
  public static LabelFile read(Path file) {
    List<String> lines = TextFiles.lines(file, "the label file");
    int end = lines.size();
    while (end > 0 && lines.get(end - 1).isBlank()) {
      end--;
    }
    List<String> labels = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < end; i++) {
      String l = lines.get(i).strip();
      if (l.isEmpty()) {
        throw new DataException(
            "line " + (i + 1) + " of the label file " + file + " is blank",
            "line i names class i, so a blank line would shift every later class: remove it, or"
                + " name the class");
      }
      Integer before = seen.putIfAbsent(l, i);
      if (before != null) {
        throw new DataException(
            "the label '" + l + "' is on lines " + (before + 1) + " and " + (i + 1) + " of " + file,
            "each class needs its own name");
      }
      labels.add(l);
    }
    if (labels.isEmpty()) {
      throw new DataException(
          "the label file " + file + " has no labels", "write one class name per line");
    }
    return new LabelFile(file, labels);
  }

  /** The labels, in class order. */
  public List<String> labels() {
    return labels;
  }

  /** The number of classes the file names. */
  public int size() {
    return labels.size();
  }

  /** The label of class {@code i}. */
  public String label(int i) {
    return labels.get(i);
  }

  /**
   * Refuses a file whose label count differs from the declared {@code Class[N]}.
   *
   * @throws DataException naming both numbers
   */
  public void checkCount(long declared) {
    if (labels.size() != declared) {
      throw new DataException(
          "the label file "
              + file
              + " names "
              + labels.size()
              + " classes, the declaration has "
              + declared,
          "give the label file the model was trained with, one label per class");
    }
  }

  /**
   * The class index of {@code label} (compared after removing surrounding white space).
   *
   * @throws DataException naming the closest labels when the file does not have it
   */
  public int indexOf(String label) {
    Integer i = index.get(label.strip());
    if (i == null) {
      List<String> near = closest(label.strip(), 3);
      throw new DataException(
          "'" + label + "' is not a label of " + file + " (" + labels.size() + " labels)",
          near.isEmpty() ? null : "the closest labels are " + String.join(", ", quoted(near)));
    }
    return i;
  }

  /**
   * The class indices of {@code values} (one label per example) as an {@code [N]} tensor of {@code
   * dtype}, what a {@code Class[N]} input takes.
   *
   * @throws DataException for a label the file does not have
   */
  public Tensor indices(List<String> values, DType dtype) {
    long[] ids = new long[values.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = indexOf(values.get(i));
    }
    return Tensor.ofLongs(dtype, new long[] {ids.length}, ids);
  }

  /** The {@code k} labels nearest to {@code s} by edit distance, ignoring case; nearest first. */
  List<String> closest(String s, int k) {
    String key = s.toLowerCase(java.util.Locale.ROOT);
    record Scored(String label, int distance, int order) {}
    List<Scored> all = new ArrayList<>();
    for (int i = 0; i < labels.size(); i++) {
      all.add(
          new Scored(
              labels.get(i),
              dev.cmod.ir.EditDistance.of(key, labels.get(i).toLowerCase(java.util.Locale.ROOT)),
              i));
    }
    all.sort(Comparator.comparingInt(Scored::distance).thenComparingInt(Scored::order));
    List<String> out = new ArrayList<>();
    for (Scored sc : all.subList(0, Math.min(k, all.size()))) {
      // a label that shares almost nothing with what was typed is no suggestion
      if (sc.distance() < Math.max(sc.label().length(), s.length())) {
        out.add(sc.label());
      }
    }
    return out;
  }

  private static List<String> quoted(List<String> labels) {
    List<String> out = new ArrayList<>();
    for (String l : labels) {
      out.add("'" + l + "'");
    }
    return out;
  }
}
