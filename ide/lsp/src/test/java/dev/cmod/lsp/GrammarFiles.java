package dev.cmod.lsp;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Files of the source tree that the tests read: the lexer and the VS Code extension. */
final class GrammarFiles {
  private GrammarFiles() {}

  /** The repository root (tests run in ide/lsp). */
  static Path root() {
    Path base = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
    return base.resolve("../..").normalize();
  }

  static Path vscode(String file) {
    return root().resolve("ide/vscode").resolve(file);
  }

  /** Strict JSON (no comments, no trailing commas): what every consumer of these files accepts. */
  static JsonElement json(Path p) throws IOException {
    JsonReader r = new JsonReader(new StringReader(Files.readString(p, StandardCharsets.UTF_8)));
    r.setStrictness(Strictness.STRICT);
    return JsonParser.parseReader(r);
  }

  /** The keyword tokens of CmodLexer.g4 (rules whose literal is a lowercase word), in order. */
  static List<String> lexerKeywords() throws IOException {
    String g4 =
        Files.readString(root().resolve("grammar/src/main/antlr4/dev/cmod/grammar/CmodLexer.g4"));
    Matcher m = Pattern.compile("(?m)^\\s*[A-Z_]+\\s*:\\s*'([a-z]+)'\\s*;").matcher(g4);
    List<String> out = new ArrayList<>();
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
