package dev.cmod.lsp;

import dev.cmod.compiler.diag.DiagnosticCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.lsp4j.CompletionItem;
import org.eclipse.lsp4j.CompletionItemKind;

/**
 * Hover text and completion items, from the tables of {@link Catalog} (keywords, types, the
 * compiler's builtin table, the std modules) and the diagnostic catalogue.
 */
final class EditorHelp {
  private EditorHelp() {}

  /**
   * Markdown for a word: a builtin's signature, a std module's header, a diagnostic's explanation.
   */
  static String hoverText(String w) {
    String sig = Catalog.BUILTINS.get(w);
    if (sig != null) {
      return "```cmod\n" + sig + "\n```\nbuiltin function";
    }
    Catalog.StdModule m = Catalog.stdModules().get(w);
    if (m != null) {
      return "```cmod\n"
          + m.signature()
          + "\n```\nfrom `"
          + m.library()
          + "`: `import "
          + m.library()
          + ".{"
          + m.name()
          + "}`";
    }
    if (w.matches("(?i)CM[0-9]{4}")) {
      DiagnosticCode c = DiagnosticCode.byId(w);
      if (c != null) {
        return "**"
            + c.id()
            + "** "
            + c.severity.text()
            + ": "
            + c.title
            + "\n\n```\n"
            + c.explanation
            + "\n```";
      }
    }
    return null;
  }

  static List<CompletionItem> completionItems() {
    List<CompletionItem> out = new ArrayList<>();
    for (String k : Catalog.KEYWORDS) {
      out.add(item(k, CompletionItemKind.Keyword, "keyword"));
    }
    for (String t : Catalog.TYPES) {
      out.add(item(t, CompletionItemKind.TypeParameter, "type"));
    }
    for (Map.Entry<String, String> b : Catalog.BUILTINS.entrySet()) {
      out.add(item(b.getKey(), CompletionItemKind.Function, b.getValue()));
    }
    for (Catalog.StdModule m : Catalog.stdModules().values()) {
      out.add(item(m.name(), CompletionItemKind.Class, m.library() + ": " + m.signature()));
    }
    // the merge methods of parameter arithmetic (not tensor builtins: they make instances)
    new java.util.TreeMap<>(dev.cmod.compiler.sema.BuiltinTable.mergeSignatures())
        .forEach((k, sig) -> out.add(item(k, CompletionItemKind.Function, sig)));
    // codecs after from / to; a name used on both sides (labels, wav...) is one item
    Map<String, String> codecs = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, String> c : dev.cmod.compiler.sema.DataCodec.catalog().entrySet()) {
      String kind = c.getKey().substring(c.getKey().indexOf(' ') + 1);
      codecs.merge(kind, c.getKey() + " " + c.getValue(), (a, b) -> a + "; " + b);
    }
    codecs.forEach((k, d) -> out.add(item(k, CompletionItemKind.Event, d)));
    for (String lib : Catalog.STD_LIBRARIES) {
      out.add(item("std." + lib, CompletionItemKind.Module, "standard library"));
    }
    return out;
  }

  private static CompletionItem item(String label, CompletionItemKind kind, String detail) {
    CompletionItem it = new CompletionItem(label);
    it.setKind(kind);
    it.setDetail(detail);
    return it;
  }
}
