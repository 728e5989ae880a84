package dev.cmod.cli.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code tokenizer.json} a BERT {@code vocab.txt} stands for, so the Hugging Face library (and
 * not a second tokenizer written here) runs a model that ships only its word list: BERT's
 * normalizer (clean-up, Chinese characters split, optional lowercasing with accents stripped), its
 * whitespace-and-punctuation pre-tokenizer, the WordPiece model with {@code ##} continuations and
 * {@code [UNK]}, the {@code [CLS] A [SEP]} (and {@code [CLS] A [SEP] B [SEP]}) template, and the
 * WordPiece decoder. The ids are the line numbers of the file.
 */
final class WordPieceJson {
  private static final List<String> SPECIAL = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");

  private WordPieceJson() {}

  static String build(Path vocabTxt, boolean lowercase) {
    List<String> lines = TextFiles.lines(vocabTxt, "the WordPiece vocabulary");
    JsonObject vocab = new JsonObject();
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String token = lines.get(i).strip();
      if (token.isEmpty()) {
        throw new DataException(
            "line " + (i + 1) + " of " + vocabTxt + " is empty",
            "a vocab.txt has one token per line, its line number (from 0) the token's id");
      }
      Integer before = seen.putIfAbsent(token, i);
      if (before != null) {
        throw new DataException(
            "the token '"
                + token
                + "' is on lines "
                + (before + 1)
                + " and "
                + (i + 1)
                + " of "
                + vocabTxt,
            "each token of a vocab.txt has one id: remove the second one");
      }
      vocab.addProperty(token, i);
    }
    for (String s : List.of("[UNK]", "[CLS]", "[SEP]")) {
      if (!seen.containsKey(s)) {
        throw new DataException(
            vocabTxt + " has no " + s + " token, which a BERT WordPiece tokenizer needs",
            "give the model's vocab.txt, or its tokenizer.json with tokenizer(...)");
      }
    }
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", JsonNull.INSTANCE);
    root.add("padding", JsonNull.INSTANCE);
    JsonArray added = new JsonArray();
    for (String s : SPECIAL) {
      if (seen.containsKey(s)) {
        JsonObject t = new JsonObject();
        t.addProperty("id", seen.get(s));
        t.addProperty("content", s);
        t.addProperty("single_word", false);
        t.addProperty("lstrip", false);
        t.addProperty("rstrip", false);
        t.addProperty("normalized", false);
        t.addProperty("special", true);
        added.add(t);
      }
    }
    root.add("added_tokens", added);
    JsonObject norm = new JsonObject();
    norm.addProperty("type", "BertNormalizer");
    norm.addProperty("clean_text", true);
    norm.addProperty("handle_chinese_chars", true);
    norm.add("strip_accents", JsonNull.INSTANCE); // follows lowercase, as in BERT
    norm.addProperty("lowercase", lowercase);
    root.add("normalizer", norm);
    JsonObject pre = new JsonObject();
    pre.addProperty("type", "BertPreTokenizer");
    root.add("pre_tokenizer", pre);
    root.add("post_processor", template(seen.get("[CLS]"), seen.get("[SEP]")));
    JsonObject dec = new JsonObject();
    dec.addProperty("type", "WordPiece");
    dec.addProperty("prefix", "##");
    dec.addProperty("cleanup", true);
    root.add("decoder", dec);
    JsonObject model = new JsonObject();
    model.addProperty("type", "WordPiece");
    model.addProperty("unk_token", "[UNK]");
    model.addProperty("continuing_subword_prefix", "##");
    model.addProperty("max_input_chars_per_word", 100);
    model.add("vocab", vocab);
    root.add("model", model);
    return root.toString();
  }

  private static JsonObject template(int cls, int sep) {
    JsonObject p = new JsonObject();
    p.addProperty("type", "TemplateProcessing");
    p.add("single", pieces(false));
    p.add("pair", pieces(true));
    JsonObject specials = new JsonObject();
    specials.add("[CLS]", special("[CLS]", cls));
    specials.add("[SEP]", special("[SEP]", sep));
    p.add("special_tokens", specials);
    return p;
  }

  private static JsonArray pieces(boolean pair) {
    JsonArray a = new JsonArray();
    a.add(piece("SpecialToken", "[CLS]", 0));
    a.add(piece("Sequence", "A", 0));
    a.add(piece("SpecialToken", "[SEP]", 0));
    if (pair) {
      a.add(piece("Sequence", "B", 1));
      a.add(piece("SpecialToken", "[SEP]", 1));
    }
    return a;
  }

  private static JsonObject piece(String kind, String id, int typeId) {
    JsonObject inner = new JsonObject();
    inner.addProperty("id", id);
    inner.addProperty("type_id", typeId);
    JsonObject o = new JsonObject();
    o.add(kind, inner);
    return o;
  }

  private static JsonObject special(String token, int id) {
    JsonObject o = new JsonObject();
    o.addProperty("id", token);
    JsonArray ids = new JsonArray();
    ids.add(id);
    o.add("ids", ids);
    JsonArray tokens = new JsonArray();
    tokens.add(token);
    o.add("tokens", tokens);
    return o;
  }
}
