package dev.cmod.cli;

import dev.cmod.cli.data.DataException;
import dev.cmod.cli.data.LabelFile;
import dev.cmod.cli.data.TextTokenizer;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.compiler.sema.DataCodec;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code cmod run --input NAME=VALUE} reads for an input declared {@code from tokenizer(...)},
 * {@code from chars(...)} or {@code from labels(...)}: the value is text ({@code caption="a cat"},
 * {@code caption=@file.txt} for a file's text) or a label ({@code species=cat}); the same input
 * given several times is a batch. A text codec also fills the inputs its {@code mask} and {@code
 * type_ids} name. Truncation to the bound is a note on the error stream, or {@code CM0701} under
 * {@code strict = true}.
 */
final class CodecText {
  private CodecText() {}

  /** Whether {@code c} is read from text or labels (rather than from files). */
  static boolean isText(DataCodec c) {
    return c != null && List.of("tokenizer", "chars", "labels").contains(c.kind());
  }

  /**
   * The tensors for the values of one input: the input's own and those its codec fills; {@code
   * dtypes} are the declared element types of the model's inputs.
   */
  static Map<String, Tensor> read(
      String name, List<String> values, DataCodec c, RunCodecs codecs, Map<String, DType> dtypes) {
    String who = "input '" + Excerpt.of(name, 100) + "'";
    Path file = codecs.file(c);
    Map<String, Tensor> out = new LinkedHashMap<>();
    try {
      if (c.kind().equals("labels")) {
        LabelFile labels = LabelFile.read(file);
        out.put(name, labels.indices(values, dtypes.getOrDefault(name, DType.I64)));
        return out;
      }
      List<String> texts = new ArrayList<>();
      for (String v : values) {
        texts.add(v.startsWith("@") ? TextTokenizer.readText(Path.of(v.substring(1))) : v);
      }
      int bound = (int) c.integer("bound", 512);
      TextTokenizer.Padding pad =
          "bound".equals(c.string("padding"))
              ? TextTokenizer.Padding.BOUND
              : TextTokenizer.Padding.LONGEST;
      try (TextTokenizer t =
          c.kind().equals("tokenizer")
              ? TextTokenizer.huggingFace(file)
              : TextTokenizer.characters(file, c.string("unk"), null)) {
        TextTokenizer.Encoded e = t.encode(texts, new TextTokenizer.Fit(bound, pad));
        for (int i = 0; i < texts.size(); i++) {
          if (e.truncated()[i]) {
            String what =
                who
                    + (texts.size() > 1 ? " (text " + (i + 1) + ")" : "")
                    + " has "
                    + e.tokens()[i]
                    + " tokens, more than its bound of "
                    + bound;
            if (c.flag("strict")) {
              throw new UserError(
                  DiagnosticCode.DATA, what + " (strict = true: shorten it or raise the bound)");
            }
            Main.err.println("note: " + what + "; cut to " + bound);
          }
        }
        out.put(name, e.idsTensor(dtypes.getOrDefault(name, DType.I64)));
        if (c.string("mask") != null) {
          out.put(c.string("mask"), e.maskTensor(dtypes.getOrDefault(c.string("mask"), DType.I64)));
        }
        if (c.string("type_ids") != null) {
          String k = c.string("type_ids");
          out.put(k, e.typeIdsTensor(dtypes.getOrDefault(k, DType.I64)));
        }
      }
      return out;
    } catch (DataException e) {
      throw data(who, e);
    }
  }

  static UserError data(String who, DataException e) {
    return new UserError(
        DiagnosticCode.DATA,
        who + ": " + e.getMessage() + (e.help() != null ? " (" + e.help() + ")" : ""));
  }
}
