package dev.cmod.compiler.sema;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.cmod.compiler.ast.Ast.Codec;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.ir.io.SafeFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The files codecs name (a tokenizer, a label list, a character list), read once at compile time:
 * relative to the source file, under the rules for files a program names (a regular file, no
 * symbolic link, one hard link, at most {@link #LIMIT} bytes), so that sizes can be checked against
 * the declared ones and the artifact can record each file's SHA-256.
 */
final class CodecFiles {
  /** The largest codec file read (a large tokenizer.json is about 20 MB). */
  static final long LIMIT = 64L << 20;

  private final Path dir;

  CodecFiles(Path dir) {
    this.dir = dir;
  }

  /** A file's bytes and what the codecs read from it. */
  record Read(String name, byte[] bytes, String sha256) {
    /**
     * The lines of a text file: UTF-8, a leading byte-order mark skipped, {@code \r\n} or {@code
     * \n}, trailing empty lines dropped (an editor's final newline).
     */
    List<String> lines() {
      String s = new String(bytes, StandardCharsets.UTF_8);
      if (s.startsWith("\uFEFF")) {
        s = s.substring(1);
      }
      List<String> r = new ArrayList<>(List.of(s.split("\r?\n", -1)));
      while (!r.isEmpty() && r.get(r.size() - 1).isEmpty()) {
        r.remove(r.size() - 1);
      }
      return r;
    }

    /** The labels of a label file: one per line, trimmed, none empty, no duplicates. */
    List<String> labels(Codec c, ElabContext el) {
      List<String> r = new ArrayList<>();
      Set<String> seen = new HashSet<>();
      List<String> lines = lines();
      for (int i = 0; i < lines.size(); i++) {
        String l = lines.get(i).strip();
        if (l.isEmpty() || !seen.add(l)) {
          el.fail(
              DiagnosticCode.CODEC,
              c.span(),
              "'"
                  + name
                  + "' line "
                  + (i + 1)
                  + (l.isEmpty() ? " is empty" : " repeats '" + l + "'"),
              "one distinct label per line, in class order");
        }
        r.add(l);
      }
      return r;
    }

    /**
     * The vocabulary size of a Hugging Face {@code tokenizer.json}: the model's vocabulary (a map
     * for WordPiece/BPE/WordLevel, a list for Unigram) together with the added tokens, counted as
     * the largest id plus one.
     */
    long tokenizerVocab(Codec c, ElabContext el) {
      try {
        JsonObject o =
            JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8)).getAsJsonObject();
        JsonElement vocab = o.getAsJsonObject("model").get("vocab");
        long n;
        if (vocab.isJsonArray()) {
          n = vocab.getAsJsonArray().size();
        } else {
          n = 0;
          for (var e : vocab.getAsJsonObject().entrySet()) {
            n = Math.max(n, e.getValue().getAsLong() + 1);
          }
        }
        if (o.has("added_tokens") && o.get("added_tokens").isJsonArray()) {
          for (JsonElement t : o.getAsJsonArray("added_tokens")) {
            n = Math.max(n, t.getAsJsonObject().get("id").getAsLong() + 1);
          }
        }
        return n;
      } catch (RuntimeException e) {
        el.fail(
            DiagnosticCode.CODEC,
            c.span(),
            "'" + name + "' is not a Hugging Face tokenizer.json (no model vocabulary)",
            "name the tokenizer.json saved with the model (tokenizer.save_pretrained)");
        return 0;
      }
    }
  }

  Read read(Codec c, String file, ElabContext el) {
    Path p;
    try {
      p = dir.resolve(file);
    } catch (InvalidPathException e) {
      el.fail(DiagnosticCode.CODEC, c.span(), "'" + file + "' is not a valid path", null);
      return null;
    }
    try {
      byte[] b = SafeFiles.readAll(p, SafeFiles.Policy.MODEL, LIMIT);
      return new Read(file, b, sha256(b));
    } catch (IOException e) {
      el.fail(
          DiagnosticCode.CODEC,
          c.span(),
          "cannot read '" + file + "': " + SafeFiles.describe(e),
          "the path is relative to this source file");
      return null;
    }
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
