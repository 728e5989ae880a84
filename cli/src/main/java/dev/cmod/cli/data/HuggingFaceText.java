package dev.cmod.cli.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link TextTokenizer} over the Hugging Face tokenizers library (Rust, through DJL's JNI binding).
 * DJL fixes truncation and padding when a tokenizer is created, so this keeps the tokenizer's JSON
 * and makes one native tokenizer per {@link TextTokenizer.Fit} asked for, plus one that neither
 * cuts nor pads (for decoding, and for counting the tokens of a text that was cut). The library's
 * own truncation is used, so the special tokens ({@code [CLS]}, {@code [SEP]}) stay in a cut text
 * exactly as in training.
 *
 * <p>DJL's native library for Linux, macOS and Windows ships inside its jar and is unpacked into
 * DJL's cache folder ({@code ~/.djl.ai}, or {@code DJL_CACHE_DIR}) on first use; {@code
 * ai.djl.offline=true} (set here unless the user set it) keeps DJL from looking anything up on the
 * network.
 */
final class HuggingFaceText implements TextTokenizer {
  private final String json;
  private final String source;
  private final int vocabSize;
  private final Map<Fit, HuggingFaceTokenizer> fitted = new HashMap<>();
  private final HuggingFaceTokenizer plain;
  private final int specials;

  private HuggingFaceText(String json, String source) {
    this.json = json;
    this.source = source;
    this.vocabSize = vocabSize(parse(json, source), source);
    this.plain = create(Map.of("truncation", "false", "padding", "false"));
    this.specials = run(plain, List.of(""))[0].getIds().length;
  }

  static HuggingFaceText fromFile(Path file) {
    return new HuggingFaceText(TextFiles.read(file, "the tokenizer"), file.toString());
  }

  static HuggingFaceText fromWordPieceVocab(Path vocabTxt, boolean lowercase) {
    return new HuggingFaceText(WordPieceJson.build(vocabTxt, lowercase), vocabTxt.toString());
  }

  @Override
  public synchronized Encoded encode(List<String> texts, Fit fit) {
    if (fit.maxLength() < specials) {
      throw new DataException(
          "a bound of "
              + fit.maxLength()
              + " tokens leaves no room: the tokenizer "
              + source
              + " adds "
              + specials
              + " special tokens to every text",
          "declare a bound of at least " + (specials + 1));
    }
    HuggingFaceTokenizer t = fitted.get(fit);
    if (t == null) {
      t =
          create(
              Map.of(
                  "truncation",
                  "true",
                  "padding",
                  fit.padding() == Padding.BOUND ? "max_length" : "longest",
                  "maxLength",
                  Integer.toString(fit.maxLength())));
      fitted.put(fit, t);
    }
    Encoding[] enc = run(t, texts);
    int n = enc.length;
    long[][] ids = new long[n][];
    long[][] mask = new long[n][];
    long[][] types = new long[n][];
    boolean[] cut = new boolean[n];
    int[] tokens = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = enc[i].getIds();
      mask[i] = enc[i].getAttentionMask();
      types[i] = enc[i].getTypeIds();
      cut[i] = enc[i].exceedMaxLength();
      tokens[i] = cut[i] ? run(plain, List.of(texts.get(i)))[0].getIds().length : count(mask[i]);
    }
    return new Encoded(ids, mask, types, cut, tokens);
  }

  @Override
  public synchronized String decode(long[] ids) {
    for (long id : ids) {
      if (id < 0 || id >= vocabSize) {
        throw new DataException(
            "token id " + id + " is outside the tokenizer's vocabulary of " + vocabSize,
            "is the output really token ids of this tokenizer?");
      }
    }
    return plain.decode(ids, true);
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public synchronized void close() {
    fitted.values().forEach(HuggingFaceTokenizer::close);
    fitted.clear();
    plain.close();
  }

  private static int count(long[] mask) {
    int c = 0;
    for (long m : mask) {
      c += (int) m;
    }
    return c;
  }

  private Encoding[] run(HuggingFaceTokenizer t, List<String> texts) {
    try {
      return t.batchEncode(texts);
    } catch (RuntimeException e) {
      throw new DataException(
          "the tokenizer " + source + " cannot encode the text: " + e.getMessage(),
          "is the text valid UTF-16 (no lone surrogates)?",
          e);
    }
  }

  private HuggingFaceTokenizer create(Map<String, String> fit) {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    Map<String, String> options = new HashMap<>(fit);
    options.put("addSpecialTokens", "true");
    try {
      return HuggingFaceTokenizer.newInstance(
          new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), options);
    } catch (ai.djl.engine.EngineException e) {
      throw nativeMissing(e);
    } catch (IOException | RuntimeException e) {
      throw new DataException(
          "the tokenizer " + source + " cannot be loaded: " + e.getMessage(),
          "give a tokenizer.json written by the Hugging Face tokenizers library"
              + " (tokenizer.save(...) or AutoTokenizer's save_pretrained)",
          e);
    } catch (LinkageError e) {
      throw nativeMissing(e);
    }
  }

  private static DataException nativeMissing(Throwable e) {
    return new DataException(
        "the Hugging Face tokenizers library cannot start on this machine ("
            + System.getProperty("os.name")
            + ", "
            + System.getProperty("os.arch")
            + "): "
            + e.getMessage(),
        "its native library ships for Linux and macOS (x86-64, arm64) and Windows (x86-64) and is"
            + " unpacked into ~/.djl.ai (or $DJL_CACHE_DIR), which must be writable; on another"
            + " platform pass token ids as a .npy file",
        e);
  }

  private static JsonObject parse(String json, String source) {
    try {
      JsonElement e = JsonParser.parseString(json);
      if (e.isJsonObject() && e.getAsJsonObject().get("model") instanceof JsonObject) {
        return e.getAsJsonObject();
      }
    } catch (JsonParseException | IllegalStateException e) {
      throw new DataException(
          "the tokenizer " + source + " is not valid JSON: " + e.getMessage(),
          "give the tokenizer.json of the model",
          e);
    }
    throw new DataException(
        "the tokenizer " + source + " is JSON but not a tokenizer.json (it has no \"model\")",
        "give the tokenizer.json of the model (not its config.json or tokenizer_config.json)");
  }

  /** One more than the largest id of the model's vocabulary and of the added tokens. */
  private static int vocabSize(JsonObject tokenizer, String source) {
    long max = -1;
    JsonElement vocab = tokenizer.getAsJsonObject("model").get("vocab");
    if (vocab instanceof JsonObject o) {
      for (Map.Entry<String, JsonElement> e : o.entrySet()) {
        max = Math.max(max, id(e.getValue(), source));
      }
    } else if (vocab instanceof JsonArray a) {
      max = a.size() - 1; // Unigram: [token, score] pairs, the index is the id
    }
    JsonElement added = tokenizer.get("added_tokens");
    if (added instanceof JsonArray a) {
      for (JsonElement t : a) {
        if (t instanceof JsonObject o && o.get("id") != null) {
          max = Math.max(max, id(o.get("id"), source));
        }
      }
    }
    if (max < 0) {
      throw new DataException(
          "the tokenizer " + source + " has an empty vocabulary",
          "give the tokenizer.json of the model");
    }
    return Math.toIntExact(max + 1);
  }

  private static long id(JsonElement e, String source) {
    if (e == null || e instanceof JsonNull || !e.isJsonPrimitive()) {
      throw new DataException(
          "the tokenizer " + source + " has a vocabulary entry that is not a number",
          "give a tokenizer.json written by the Hugging Face tokenizers library");
    }
    try {
      long id = e.getAsLong();
      if (id < 0 || id >= Integer.MAX_VALUE) {
        throw new NumberFormatException("out of range");
      }
      return id;
    } catch (NumberFormatException | UnsupportedOperationException ex) {
      throw new DataException(
          "the tokenizer " + source + " has a vocabulary id '" + e + "' that is not an id",
          "give a tokenizer.json written by the Hugging Face tokenizers library",
          ex);
    }
  }
}
