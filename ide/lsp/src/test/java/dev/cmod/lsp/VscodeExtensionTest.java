package dev.cmod.lsp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.cmod.compiler.sema.BuiltinTable;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The VS Code extension's manifest, language configuration and TextMate grammar. */
class VscodeExtensionTest {
  static JsonObject manifest;
  static JsonObject config;
  static JsonObject grammar;

  @BeforeAll
  static void read() throws Exception {
    manifest = GrammarFiles.json(GrammarFiles.vscode("package.json")).getAsJsonObject();
    config =
        GrammarFiles.json(GrammarFiles.vscode("language-configuration.json")).getAsJsonObject();
    grammar =
        GrammarFiles.json(GrammarFiles.vscode("syntaxes/cmod.tmLanguage.json")).getAsJsonObject();
  }

  @Test
  void manifestContributesTheLanguage() {
    JsonObject contributes = manifest.getAsJsonObject("contributes");
    JsonObject lang = contributes.getAsJsonArray("languages").get(0).getAsJsonObject();
    assertEquals("cmod", lang.get("id").getAsString());
    assertTrue(
        lang.getAsJsonArray("extensions").contains(new com.google.gson.JsonPrimitive(".cmod")));
    assertTrue(Files.isRegularFile(GrammarFiles.vscode(lang.get("configuration").getAsString())));
    JsonObject g = contributes.getAsJsonArray("grammars").get(0).getAsJsonObject();
    assertEquals("cmod", g.get("language").getAsString());
    assertEquals(grammar.get("scopeName").getAsString(), g.get("scopeName").getAsString());
    assertTrue(Files.isRegularFile(GrammarFiles.vscode(g.get("path").getAsString())));
    assertTrue(Files.isRegularFile(GrammarFiles.vscode(manifest.get("main").getAsString())));
    assertTrue(
        manifest
            .getAsJsonArray("activationEvents")
            .contains(new com.google.gson.JsonPrimitive("onLanguage:cmod")));
  }

  @Test
  void languageConfiguration() {
    JsonObject comments = config.getAsJsonObject("comments");
    assertEquals("//", comments.get("lineComment").getAsString());
    assertEquals("/*", comments.getAsJsonArray("blockComment").get(0).getAsString());
    assertEquals("*/", comments.getAsJsonArray("blockComment").get(1).getAsString());
    assertEquals(3, config.getAsJsonArray("brackets").size());
    assertFalse(config.getAsJsonArray("autoClosingPairs").isEmpty());
    Pattern.compile(config.get("wordPattern").getAsString());
    JsonObject indent = config.getAsJsonObject("indentationRules");
    Pattern.compile(indent.get("increaseIndentPattern").getAsString());
    Pattern.compile(indent.get("decreaseIndentPattern").getAsString());
  }

  @Test
  void grammarRegexesCompileAndIncludesResolve() {
    assertEquals("source.cmod", grammar.get("scopeName").getAsString());
    List<String> regexes = new ArrayList<>();
    List<String> includes = new ArrayList<>();
    walk(grammar, regexes, includes);
    assertTrue(regexes.size() > 20, regexes.toString());
    for (String r : regexes) {
      try {
        Pattern.compile(r);
      } catch (PatternSyntaxException e) {
        fail("regex does not compile: " + r + ": " + e.getMessage());
      }
    }
    JsonObject repo = grammar.getAsJsonObject("repository");
    for (String inc : includes) {
      assertTrue(inc.startsWith("#") && repo.has(inc.substring(1)), "unresolved include " + inc);
    }
  }

  @Test
  void everyLexerKeywordIsAKeyword() throws Exception {
    List<String> keywords = GrammarFiles.lexerKeywords();
    assertTrue(keywords.size() >= 30, keywords.toString());
    List<Pattern> ps = patterns("keywords");
    for (String k : keywords) {
      assertTrue(
          ps.stream().anyMatch(p -> p.matcher(k).matches()),
          "keyword '" + k + "' is not in the grammar's keyword regex");
    }
    assertFalse(
        ps.stream().anyMatch(p -> p.matcher("model_name").find()),
        "keywords must match whole words only");
  }

  @Test
  void tokensOfTheLanguage() {
    for (String t : List.of("Image", "Audio", "Video", "Text", "Class", "Vector", "Seq")) {
      assertEquals("support.type.modality.cmod", scopeOf("types", t), t);
    }
    for (String t : List.of("f32", "f16", "bf16", "i64", "i32", "bool")) {
      assertEquals("storage.type.dtype.cmod", scopeOf("types", t), t);
    }
    for (String n : List.of("0", "512K", "40M", "3G", "1T", "1_000")) {
      assertEquals("constant.numeric.integer.cmod", scopeOf("numbers", n), n);
    }
    for (String n : List.of("0.5", "1e-5", "2.5E+3")) {
      assertEquals("constant.numeric.float.cmod", scopeOf("numbers", n), n);
    }
    assertEquals("keyword.operator.pipe.cmod", scopeOf("operators", "|>"));
    assertEquals("keyword.operator.matmul.cmod", scopeOf("operators", "@"));
    assertEquals("keyword.operator.arrow.cmod", scopeOf("operators", "->"));
    assertEquals("comment.line.double-slash.cmod", scopeOf("comments", "// a comment"));
    for (String b : Catalog.BUILTINS.keySet()) {
      assertEquals("support.function.builtin.cmod", scopeOf("builtins", b), b);
    }
  }

  /** The grammar's list of builtin names is the compiler's table, so a new builtin cannot drift. */
  @Test
  void builtinListIsTheCompilersTable() {
    JsonObject p =
        grammar
            .getAsJsonObject("repository")
            .getAsJsonObject("builtins")
            .getAsJsonArray("patterns")
            .get(0)
            .getAsJsonObject();
    assertEquals("support.function.builtin.cmod", p.get("name").getAsString());
    Matcher m =
        Pattern.compile("^\\\\b\\(\\?:([a-z0-9_|]+)\\)\\\\b$")
            .matcher(p.get("match").getAsString());
    assertTrue(m.matches(), p.get("match").getAsString());
    assertEquals(
        new TreeSet<>(BuiltinTable.names()), new TreeSet<>(List.of(m.group(1).split("\\|"))));
  }

  @Test
  void namesAfterModuleAndModel() {
    assertEquals(
        "Linear",
        declared(
            "module Linear(inp: int)(x: f32[..., inp]) -> f32[..., inp] {",
            "entity.name.function.module.cmod"));
    assertEquals(
        "PatchClassifier", declared("model PatchClassifier {", "entity.name.type.model.cmod"));
  }

  /** The first pattern of a repository entry that matches the whole text, by its scope name. */
  private static String scopeOf(String entry, String text) {
    for (JsonElement e :
        grammar.getAsJsonObject("repository").getAsJsonObject(entry).getAsJsonArray("patterns")) {
      JsonObject p = e.getAsJsonObject();
      String re =
          p.has("match")
              ? p.get("match").getAsString()
              : p.has("begin") ? p.get("begin").getAsString() : null;
      if (re != null
          && Pattern.compile(re).matcher(text).lookingAt()
          && (p.has("begin") || Pattern.compile(re).matcher(text).matches())) {
        return p.has("name") ? p.get("name").getAsString() : null;
      }
    }
    return null;
  }

  /**
   * What the declaration pattern with a capture of scope {@code scope} captures in {@code line}.
   */
  private static String declared(String line, String scope) {
    for (JsonElement e :
        grammar
            .getAsJsonObject("repository")
            .getAsJsonObject("declarations")
            .getAsJsonArray("patterns")) {
      JsonObject p = e.getAsJsonObject();
      for (Map.Entry<String, JsonElement> c : p.getAsJsonObject("captures").entrySet()) {
        if (c.getValue().getAsJsonObject().get("name").getAsString().equals(scope)) {
          Matcher m = Pattern.compile(p.get("match").getAsString()).matcher(line);
          return m.find() ? m.group(Integer.parseInt(c.getKey())) : null;
        }
      }
    }
    return null;
  }

  private static List<Pattern> patterns(String entry) {
    List<Pattern> out = new ArrayList<>();
    for (JsonElement e :
        grammar.getAsJsonObject("repository").getAsJsonObject(entry).getAsJsonArray("patterns")) {
      out.add(Pattern.compile(e.getAsJsonObject().get("match").getAsString()));
    }
    return out;
  }

  private static void walk(JsonElement e, List<String> regexes, List<String> includes) {
    if (e.isJsonObject()) {
      for (Map.Entry<String, JsonElement> kv : e.getAsJsonObject().entrySet()) {
        String k = kv.getKey();
        if ((k.equals("match") || k.equals("begin") || k.equals("end") || k.equals("while"))
            && kv.getValue().isJsonPrimitive()) {
          regexes.add(kv.getValue().getAsString());
        } else if (k.equals("include")) {
          includes.add(kv.getValue().getAsString());
        } else {
          walk(kv.getValue(), regexes, includes);
        }
      }
    } else if (e.isJsonArray()) {
      for (JsonElement x : (JsonArray) e) {
        walk(x, regexes, includes);
      }
    }
  }
}
