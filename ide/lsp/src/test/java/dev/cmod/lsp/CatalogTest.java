package dev.cmod.lsp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The server's static tables agree with the compiler and the lexer they mirror. */
class CatalogTest {
  @Test
  void builtinsMatchTheCompiler() throws Exception {
    Class<?> b = Class.forName("dev.cmod.compiler.sema.Builtins");
    Method names = b.getDeclaredMethod("names");
    names.setAccessible(true);
    @SuppressWarnings("unchecked")
    Set<String> compiler = (Set<String>) names.invoke(null);
    assertEquals(new TreeSet<>(compiler), new TreeSet<>(Catalog.BUILTINS.keySet()));
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
