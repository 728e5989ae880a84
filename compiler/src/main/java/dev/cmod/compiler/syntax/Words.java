package dev.cmod.compiler.syntax;

import dev.cmod.grammar.CmodLexer;
import dev.cmod.ir.type.DType;
import java.util.ArrayList;
import java.util.List;
import org.antlr.v4.runtime.Vocabulary;

/**
 * The words the language reserves, for tools that offer or avoid them (the language server's
 * completion, {@code cmod wrap}'s identifiers): the keywords, read from the lexer's vocabulary, and
 * the type names (modalities, element types from {@link DType}, hyperparameter types).
 */
public final class Words {
  private Words() {}

  /** Every token whose literal is a lower-case word, in the lexer's order. */
  public static final List<String> KEYWORDS = keywords();

  /** Modality types, element types and hyperparameter types. */
  public static final List<String> TYPE_NAMES = typeNames();

  private static List<String> keywords() {
    List<String> out = new ArrayList<>();
    Vocabulary v = CmodLexer.VOCABULARY;
    for (int t = 1; t <= v.getMaxTokenType(); t++) {
      String lit = v.getLiteralName(t);
      if (lit != null && lit.matches("'[a-z]+'")) {
        out.add(lit.substring(1, lit.length() - 1));
      }
    }
    return List.copyOf(out);
  }

  private static List<String> typeNames() {
    List<String> out =
        new ArrayList<>(List.of("Image", "Audio", "Video", "Text", "Class", "Vector", "Seq"));
    for (DType d : DType.values()) {
      out.add(d.text);
    }
    out.addAll(List.of("int", "float", "string", "dtype"));
    return List.copyOf(out);
  }
}
