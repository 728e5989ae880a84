package dev.cmod.cli.data;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A character-level vocabulary: the file has one token per line, the line number (from 0) its id,
 * and each character (Unicode code point) of a text is one token. Lines are taken as they are — a
 * line holding one space is the space token — and may also hold longer tokens ({@code <pad>},
 * {@code <unk>}) that serve as the padding or unknown token but are never produced from text.
 *
 * <p>A character the file does not list becomes the {@code unk} token when one is named, and is an
 * error (naming the character and where it is) when none is: a character-level model has no
 * meaningful id for it, so silently dropping it would change the text. Padding uses the {@code pad}
 * token's id, or id 0 when none is named (the slot such vocabularies conventionally reserve). No
 * start or end token is added. Decoding maps ids back to their tokens, leaving out padding.
 */
final class CharTokenizer implements TextTokenizer {
  private final String[] tokens;
  private final Map<Integer, Integer> ids = new HashMap<>();
  private final int unkId;
  private final int padId;
  private final Path file;

  private CharTokenizer(Path file, String[] tokens, int unkId, int padId) {
    this.file = file;
    this.tokens = tokens;
    this.unkId = unkId;
    this.padId = padId;
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i].codePointCount(0, tokens[i].length()) == 1) {
        ids.put(tokens[i].codePointAt(0), i);
      }
    }
  }

  static CharTokenizer load(Path file, String unk, String pad) {
    List<String> lines = TextFiles.lines(file, "the character vocabulary");
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String t = lines.get(i);
      if (t.isEmpty()) {
        throw new DataException(
            "line " + (i + 1) + " of " + file + " is empty",
            "the file has one token per line, its line number (from 0) the token's id; a space"
                + " token is a line holding one space");
      }
      Integer before = seen.putIfAbsent(t, i);
      if (before != null) {
        throw new DataException(
            "the token '" + t + "' is on lines " + (before + 1) + " and " + (i + 1) + " of " + file,
            "each token has one id: remove the second one");
      }
    }
    if (lines.isEmpty()) {
      throw new DataException(file + " has no tokens", "the file has one token per line");
    }
    return new CharTokenizer(
        file, lines.toArray(String[]::new), find(seen, unk, "unk", file), padId(seen, pad, file));
  }

  private static int padId(Map<String, Integer> seen, String pad, Path file) {
    return pad == null ? 0 : find(seen, pad, "pad", file);
  }

  private static int find(Map<String, Integer> seen, String token, String role, Path file) {
    if (token == null) {
      return -1;
    }
    Integer id = seen.get(token);
    if (id == null) {
      throw new DataException(
          "the " + role + " token '" + token + "' is not in " + file,
          "name a token that is a line of the file");
    }
    return id;
  }

  @Override
  public Encoded encode(List<String> texts, Fit fit) {
    int n = texts.size();
    long[][] all = new long[n][];
    int longest = 0;
    for (int i = 0; i < n; i++) {
      all[i] = ids(texts.get(i), i, n);
      longest = Math.max(longest, Math.min(all[i].length, fit.maxLength()));
    }
    int len = fit.padding() == Padding.BOUND ? fit.maxLength() : longest;
    long[][] out = new long[n][len];
    long[][] mask = new long[n][len];
    boolean[] cut = new boolean[n];
    int[] count = new int[n];
    for (int i = 0; i < n; i++) {
      int keep = Math.min(all[i].length, len);
      Arrays.fill(out[i], padId);
      System.arraycopy(all[i], 0, out[i], 0, keep);
      Arrays.fill(mask[i], 0, keep, 1);
      cut[i] = all[i].length > fit.maxLength();
      count[i] = all[i].length;
    }
    return new Encoded(out, mask, new long[n][len], cut, count);
  }

  private long[] ids(String text, int row, int rows) {
    int[] cps = text.codePoints().toArray();
    long[] out = new long[cps.length];
    for (int k = 0; k < cps.length; k++) {
      Integer id = ids.get(cps[k]);
      if (id == null) {
        if (unkId < 0) {
          throw new DataException(
              "the character '"
                  + new String(Character.toChars(cps[k]))
                  + "' (U+"
                  + String.format("%04X", cps[k])
                  + ") at position "
                  + (k + 1)
                  + (rows > 1 ? " of text " + (row + 1) : "")
                  + " is not in the vocabulary "
                  + file,
              "remove it from the text, or name an unknown token (unk) for such characters");
        }
        id = unkId;
      }
      out[k] = id;
    }
    return out;
  }

  @Override
  public String decode(long[] row) {
    StringBuilder sb = new StringBuilder();
    for (long id : row) {
      if (id < 0 || id >= tokens.length) {
        throw new DataException(
            "token id " + id + " is outside the vocabulary of " + tokens.length + " in " + file,
            "is the output really token ids of this vocabulary?");
      }
      if (id != padId) {
        sb.append(tokens[(int) id]);
      }
    }
    return sb.toString();
  }

  @Override
  public int vocabSize() {
    return tokens.length;
  }

  @Override
  public void close() {
    // nothing held
  }
}
