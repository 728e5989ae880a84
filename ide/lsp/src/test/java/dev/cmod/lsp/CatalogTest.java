package dev.cmod.lsp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.sema.BuiltinTable;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The server's static tables agree with the compiler and the lexer they come from. */
class CatalogTest {
  @Test
  void builtinsAreTheCompilersTable() {
    assertEquals(List.copyOf(BuiltinTable.names()), List.copyOf(Catalog.BUILTINS.keySet()));
  }

  /** The signatures hovers and completions show, in order, as the hand-written table had them. */
  @Test
  void signaturesAreTheOnesTheEditorShowed() throws Exception {
    List<String> want;
    try (InputStream in = CatalogTest.class.getResourceAsStream("/builtin-signatures.txt")) {
      want = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
    assertEquals(want, List.copyOf(Catalog.BUILTINS.values()));
  }

  @Test
  void keywordsMatchTheLexer() throws Exception {
    List<String> lexer = GrammarFiles.lexerKeywords();
    assertEquals(lexer, Catalog.KEYWORDS);
  }

  @Test
  void stdModulesAreRead() {
    assertTrue(Catalog.stdModules().containsKey("TransformerBlock"));
    assertEquals("std.peft", Catalog.stdModules().get("LoraLinear").library());
    List<String> libs = new ArrayList<>();
    Catalog.stdModules().values().forEach(m -> libs.add(m.library()));
    for (String l : Catalog.STD_LIBRARIES) {
      assertTrue(libs.contains("std." + l), l);
    }
  }
}
