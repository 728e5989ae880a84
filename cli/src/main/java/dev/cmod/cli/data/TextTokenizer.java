package dev.cmod.cli.data;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Text to the token ids a {@code Text[seq] vocab N} input takes, and ids back to text. A model is
 * trained with one tokenizer, so the tokenizer travels with the model's declaration instead of
 * being rebuilt by every user: a Hugging Face {@code tokenizer.json} ({@link #huggingFace}), a BERT
 * {@code vocab.txt} ({@link #wordPiece}, the same WordPiece tokenizer built from the bare word
 * list), or a character list for character-level models ({@link #characters}).
 *
 * <p>Every text of a batch is cut to the declared bound (the {@code where seq <= N} of the
 * declaration) and padded — to the bound or to the longest text of the batch, as {@link Fit} says.
 * Truncation is never silent: {@link Encoded#truncated()} says which texts lost tokens and {@link
 * Encoded#tokens()} how many they had, so the caller notes it (or refuses it under {@code strict}).
 * {@link #checkVocab} compares the tokenizer with the declared vocabulary size, which catches a
 * tokenizer that belongs to another model before its ids index past an embedding table.
 *
 * <p>A tokenizer holds native memory (the Hugging Face one); close it when done.
 */
public interface TextTokenizer extends AutoCloseable {

  /** How a batch is padded: to the declared bound, or to its longest text (at most the bound). */
  enum Padding {
    BOUND,
    LONGEST
  }

  /**
   * The length every encoded text must fit: {@code maxLength} tokens, special tokens included,
   * padded as {@code padding} says.
   */
  record Fit(int maxLength, Padding padding) {
    public Fit {
      if (maxLength < 1) {
        throw new IllegalArgumentException("a text bound of " + maxLength + " tokens");
      }
    }
  }

  /**
   * A batch of encoded texts, one row per text, all rows of one length: the ids, the attention mask
   * (1 for a real token, 0 for padding), the token type ids (the segment, 0 for a single text), and
   * per text whether it was cut and how many tokens it had before.
   */
  record Encoded(long[][] ids, long[][] mask, long[][] typeIds, boolean[] truncated, int[] tokens) {
    /** The length of every row. */
    public int length() {
      return ids.length == 0 ? 0 : ids[0].length;
    }

    /** Whether any text was cut to the bound. */
    public boolean anyTruncated() {
      for (boolean t : truncated) {
        if (t) {
          return true;
        }
      }
      return false;
    }

    /** The ids as a {@code [batch, length]} tensor of {@code dtype} (i64 or i32). */
    public Tensor idsTensor(DType dtype) {
      return tensor(ids, dtype);
    }

    /** The attention mask as a {@code [batch, length]} tensor of {@code dtype}. */
    public Tensor maskTensor(DType dtype) {
      return tensor(mask, dtype);
    }

    /** The token type ids as a {@code [batch, length]} tensor of {@code dtype}. */
    public Tensor typeIdsTensor(DType dtype) {
      return tensor(typeIds, dtype);
    }

    private Tensor tensor(long[][] rows, DType dtype) {
      int l = length();
      long[] flat = new long[rows.length * l];
      for (int i = 0; i < rows.length; i++) {
        System.arraycopy(rows[i], 0, flat, i * l, l);
      }
      return Tensor.ofLongs(dtype, new long[] {rows.length, l}, flat);
    }
  }

  /** Encodes a batch of texts to fit {@code fit}. */
  Encoded encode(List<String> texts, Fit fit);

  /** Encodes one text (a batch of one). */
  default Encoded encode(String text, Fit fit) {
    return encode(List.of(text), fit);
  }

  /** The text of a row of ids, without special and padding tokens. */
  String decode(long[] ids);

  /**
   * The texts of an output of token ids: {@code [L]} gives one text, {@code [N, L]} one per row.
   * Scores over the vocabulary ({@code [L, V]} or {@code [N, L, V]} floats) are first turned into
   * ids by taking the highest score at each position.
   *
   * @throws DataException for another shape
   */
  default List<String> decode(Tensor ids) {
    long[] s = ids.shape();
    List<String> out = new ArrayList<>();
    if (ids.isFloat()) {
      if (s.length != 2 && s.length != 3) {
        throw new DataException(
            "scores over a vocabulary decode from [L, V] or [N, L, V]; this output is "
                + Arrays.toString(s),
            null);
      }
      long[] am = ClassScores.argmaxLastAxis(ids);
      return decode(Tensor.ofLongs(Arrays.copyOf(s, s.length - 1), am));
    }
    if (s.length != 1 && s.length != 2) {
      throw new DataException(
          "token ids decode from [L] or [N, L]; this output is " + Arrays.toString(s), null);
    }
    int n = s.length == 1 ? 1 : (int) s[0];
    int l = (int) s[s.length - 1];
    for (int i = 0; i < n; i++) {
      out.add(decode(Arrays.copyOfRange(ids.longs(), i * l, (i + 1) * l)));
    }
    return out;
  }

  /**
   * The tokenizer's vocabulary size: one more than the largest id it can give (its vocabulary and
   * its added tokens), which is the number of rows the model's embedding table needs.
   */
  int vocabSize();

  /**
   * Refuses a tokenizer whose vocabulary size differs from the declared {@code vocab N}.
   *
   * @throws DataException naming both numbers
   */
  default void checkVocab(long declared) {
    if (vocabSize() != declared) {
      throw new DataException(
          "the tokenizer has a vocabulary of "
              + vocabSize()
              + " tokens, the input declares vocab "
              + declared,
          vocabSize() > declared
              ? "its ids would index past the model's embedding table: is it the tokenizer this"
                  + " model was trained with?"
              : "declare vocab " + vocabSize() + " if the model's embedding has that many rows");
    }
  }

  /** Releases what the tokenizer holds (native memory for a Hugging Face tokenizer). */
  @Override
  void close();

  /**
   * The text of a file given as an input value ({@code --input caption=@file.txt}): strict UTF-8, a
   * byte order mark and one final line end removed (an editor adds one; the text does not mean it).
   *
   * @throws DataException when it cannot be read or is not UTF-8
   */
  static String readText(Path file) {
    String s = TextFiles.read(file, "the text file");
    if (s.endsWith("\r\n")) {
      return s.substring(0, s.length() - 2);
    }
    return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
  }

  /**
   * A Hugging Face {@code tokenizer.json}, run by the Hugging Face tokenizers library (through
   * DJL), so the ids are the ones the model was trained with.
   *
   * @throws DataException when the file cannot be read or is not a tokenizer
   */
  static TextTokenizer huggingFace(Path tokenizerJson) {
    return HuggingFaceText.fromFile(tokenizerJson);
  }

  /**
   * A BERT-style WordPiece tokenizer from its {@code vocab.txt} (one token per line, the line
   * number its id): the normalization, pre-tokenization, {@code [CLS] ... [SEP]} template and
   * {@code ##} continuation BERT's own {@code tokenizer.json} has, built for the Hugging Face
   * library. {@code lowercase} is the model's casing ({@code true} for uncased models).
   *
   * @throws DataException when the file cannot be read, or lacks {@code [CLS]}, {@code [SEP]} or
   *     {@code [UNK]}
   */
  static TextTokenizer wordPiece(Path vocabTxt, boolean lowercase) {
    return HuggingFaceText.fromWordPieceVocab(vocabTxt, lowercase);
  }

  /**
   * A character-level vocabulary, see {@link CharTokenizer}: one token per line, each character of
   * a text one token. {@code unk} is the token an unknown character becomes (null: an unknown
   * character is an error), {@code pad} the padding token (null: id 0).
   */
  static TextTokenizer characters(Path vocab, String unk, String pad) {
    return CharTokenizer.load(vocab, unk, pad);
  }
}
