package dev.cmod.cli.data;

import dev.cmod.ir.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Greedy CTC decoding: the text a sequence recogniser (an OCR line reader, a speech model) reads,
 * from its per-step class scores {@code [T, C]} (or {@code [N, T, C]}): the best class at each
 * step, runs of the same class collapsed to one, the blank class dropped, every other class mapped
 * to its symbol. A blank between two equal symbols keeps both ({@code a _ a} is "aa"), which is why
 * repeats are collapsed before blanks are dropped.
 *
 * <p>The classes follow PaddleOCR's dictionary convention: class 0 is the blank, classes 1..n are
 * the dictionary's lines in order, and when {@code use_space_char} is set one more class, a space,
 * follows them ({@code ppocr_keys_v1.txt}'s 6623 lines give the recogniser's 6625 classes). A model
 * that puts its blank last is read with {@link Blank#LAST}. A dictionary line is taken as it is
 * (only its line end removed, so a line holding one space is a space); an empty line is refused
 * since it would be a class that reads as nothing.
 *
 * <p>The confidence of a text is the mean, over the steps kept, of the best class's score as the
 * model gives it (a probability for a recogniser that ends in a softmax, as PaddleOCR's do); 0 for
 * an empty text.
 */
public final class CtcDecoder {
  /** Where the blank class is: before the dictionary's symbols (PaddleOCR) or after them. */
  public enum Blank {
    FIRST,
    LAST
  }

  /** One decoded text and its confidence. */
  public record Result(String text, float confidence) {}

  private final String[] symbols;
  private final int blank;
  private final boolean space;
  private final String source;

  private CtcDecoder(String[] symbols, int blank, boolean space, String source) {
    this.symbols = symbols;
    this.blank = blank;
    this.space = space;
    this.source = source;
  }

  /**
   * A decoder over {@code symbols} (in class order, without the blank), the blank at {@code blank}
   * and a space after the symbols when {@code useSpaceChar}.
   */
  public static CtcDecoder of(List<String> symbols, Blank blank, boolean useSpaceChar) {
    return build(symbols, blank, useSpaceChar, "the character list");
  }

  /**
   * Reads a dictionary file (one symbol per line, UTF-8) and builds the decoder over it.
   *
   * @throws DataException when it cannot be read, is empty or has an empty line
   */
  public static CtcDecoder read(Path dict, Blank blank, boolean useSpaceChar) {
    List<String> lines = TextFiles.lines(dict, "the character list");
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isEmpty()) {
        throw new DataException(
            "line " + (i + 1) + " of the character list " + dict + " is empty",
            "line i is the symbol of class i + 1 (class 0 is the blank): remove the empty line, or"
                + " write the character (a space is a line holding one space)");
      }
    }
    if (lines.isEmpty()) {
      throw new DataException(
          "the character list " + dict + " is empty", "write one symbol per line");
    }
    return build(lines, blank, useSpaceChar, dict.toString());
  }

  private static CtcDecoder build(
      List<String> symbols, Blank blank, boolean useSpaceChar, String source) {
    List<String> all = new ArrayList<>();
    if (blank == Blank.FIRST) {
      all.add("");
    }
    all.addAll(symbols);
    if (useSpaceChar) {
      all.add(" ");
    }
    if (blank == Blank.LAST) {
      all.add("");
    }
    return new CtcDecoder(
        all.toArray(String[]::new),
        blank == Blank.FIRST ? 0 : all.size() - 1,
        useSpaceChar,
        source);
  }

  /** The number of classes the output must have: the symbols, the blank, the space if any. */
  public int classes() {
    return symbols.length;
  }

  /**
   * Decodes {@code scores}: {@code [T, C]} gives one text, {@code [N, T, C]} one per example.
   *
   * @throws DataException when the scores are not floats of that shape or {@code C} is not {@link
   *     #classes()}
   */
  public List<Result> decode(Tensor scores) {
    long[] s = scores.shape();
    if (!scores.isFloat() || (s.length != 2 && s.length != 3)) {
      throw new DataException(
          "CTC output decodes from per-step scores of shape [T, C] or [N, T, C]; this output is "
              + scores.dtype()
              + Arrays.toString(s),
          null);
    }
    int c = (int) s[s.length - 1];
    if (c != symbols.length) {
      String help =
          c == symbols.length + 1 && !space
              ? "does the model also read a space? set use_space_char"
              : c == symbols.length - 1 && space
                  ? "the model has no space class: leave use_space_char off"
                  : "give the character list of this model";
      throw new DataException(
          "the output has "
              + c
              + " classes per step, the character list "
              + source
              + " gives "
              + symbols.length
              + " (the blank and "
              + (symbols.length - 1)
              + " symbols)",
          help);
    }
    int n = s.length == 2 ? 1 : (int) s[0];
    int t = (int) s[s.length - 2];
    float[] f = scores.floats();
    List<Result> out = new ArrayList<>();
    for (int e = 0; e < n; e++) {
      StringBuilder text = new StringBuilder();
      double conf = 0;
      int kept = 0;
      int prev = -1;
      for (int step = 0; step < t; step++) {
        int base = (e * t + step) * c;
        int best = 0;
        for (int j = 1; j < c; j++) {
          if (f[base + j] > f[base + best]) {
            best = j;
          }
        }
        if (best != prev && best != blank) {
          text.append(symbols[best]);
          conf += f[base + best];
          kept++;
        }
        prev = best;
      }
      out.add(new Result(text.toString(), kept == 0 ? 0f : (float) (conf / kept)));
    }
    return out;
  }

  /** The texts as a UTF-8 text file, one line per example. */
  public static byte[] toText(List<Result> results) {
    StringBuilder sb = new StringBuilder();
    for (Result r : results) {
      sb.append(r.text()).append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }
}
