package dev.cmod.cli.data;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An independent BERT tokenizer for the tests, written from the description of BERT's uncased
 * tokenization (not from the Hugging Face code): clean the text, put spaces around CJK ideographs,
 * lowercase and strip accents, split on white space and punctuation, then greedy longest-match
 * WordPiece with {@code ##} continuations, a word with no match (or over 100 characters) being
 * {@code [UNK]}; {@code [CLS]} before and {@code [SEP]} after.
 */
final class ReferenceWordPiece {
  private final Map<String, Integer> vocab;

  ReferenceWordPiece(Map<String, Integer> vocab) {
    this.vocab = vocab;
  }

  List<Long> encode(String text) {
    List<Long> ids = new ArrayList<>();
    ids.add((long) vocab.get("[CLS]"));
    for (String word : basic(text)) {
      ids.addAll(wordPiece(word));
    }
    ids.add((long) vocab.get("[SEP]"));
    return ids;
  }

  private List<String> basic(String text) {
    StringBuilder clean = new StringBuilder();
    text.codePoints()
        .forEach(
            cp -> {
              if (cp == 0 || cp == 0xFFFD || control(cp)) {
                return;
              }
              if (whitespace(cp)) {
                clean.append(' ');
              } else if (cjk(cp)) {
                clean.append(' ').appendCodePoint(cp).append(' ');
              } else {
                clean.appendCodePoint(cp);
              }
            });
    String lower = clean.toString().toLowerCase(java.util.Locale.ROOT);
    StringBuilder plain = new StringBuilder();
    Normalizer.normalize(lower, Normalizer.Form.NFD)
        .codePoints()
        .filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK)
        .forEach(plain::appendCodePoint);
    List<String> words = new ArrayList<>();
    for (String chunk : plain.toString().trim().split(" +")) {
      StringBuilder cur = new StringBuilder();
      chunk
          .codePoints()
          .forEach(
              cp -> {
                if (punctuation(cp)) {
                  if (cur.length() > 0) {
                    words.add(cur.toString());
                    cur.setLength(0);
                  }
                  words.add(new String(Character.toChars(cp)));
                } else {
                  cur.appendCodePoint(cp);
                }
              });
      if (cur.length() > 0) {
        words.add(cur.toString());
      }
    }
    return words;
  }

  private List<Long> wordPiece(String word) {
    int[] cps = word.codePoints().toArray();
    List<Long> out = new ArrayList<>();
    if (cps.length > 100) {
      return List.of((long) vocab.get("[UNK]"));
    }
    int start = 0;
    while (start < cps.length) {
      Integer found = null;
      int end = cps.length;
      for (; end > start; end--) {
        String piece = (start > 0 ? "##" : "") + new String(cps, start, end - start);
        found = vocab.get(piece);
        if (found != null) {
          break;
        }
      }
      if (found == null) {
        return List.of((long) vocab.get("[UNK]"));
      }
      out.add((long) found);
      start = end;
    }
    return out;
  }

  private static boolean control(int cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') {
      return false;
    }
    int t = Character.getType(cp);
    return t == Character.CONTROL
        || t == Character.FORMAT
        || t == Character.PRIVATE_USE
        || t == Character.SURROGATE
        || t == Character.UNASSIGNED;
  }

  private static boolean whitespace(int cp) {
    return cp == ' '
        || cp == '\t'
        || cp == '\n'
        || cp == '\r'
        || Character.getType(cp) == Character.SPACE_SEPARATOR;
  }

  private static boolean punctuation(int cp) {
    if ((cp >= 33 && cp <= 47)
        || (cp >= 58 && cp <= 64)
        || (cp >= 91 && cp <= 96)
        || (cp >= 123 && cp <= 126)) {
      return true;
    }
    int t = Character.getType(cp);
    return t == Character.CONNECTOR_PUNCTUATION
        || t == Character.DASH_PUNCTUATION
        || t == Character.START_PUNCTUATION
        || t == Character.END_PUNCTUATION
        || t == Character.INITIAL_QUOTE_PUNCTUATION
        || t == Character.FINAL_QUOTE_PUNCTUATION
        || t == Character.OTHER_PUNCTUATION;
  }

  private static boolean cjk(int cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF)
        || (cp >= 0x3400 && cp <= 0x4DBF)
        || (cp >= 0x20000 && cp <= 0x2A6DF)
        || (cp >= 0x2A700 && cp <= 0x2B73F)
        || (cp >= 0x2B740 && cp <= 0x2B81F)
        || (cp >= 0x2B820 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF)
        || (cp >= 0x2F800 && cp <= 0x2FA1F);
  }
}
