package dev.cmod.lsp;

import dev.cmod.compiler.sema.BuiltinTable;
import dev.cmod.compiler.syntax.Words;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the editor offers besides diagnostics: keywords, builtin signatures (the compiler's {@link
 * BuiltinTable}), std library modules.
 */
final class Catalog {
  /** The keywords, read from the lexer's vocabulary (in its order). */
  static final List<String> KEYWORDS = Words.KEYWORDS;

  /** Modality types, element types and hyperparameter types. */
  static final List<String> TYPES = Words.TYPE_NAMES;

  /** The stdlib libraries (resources std/NAME.cmod, from cmod-stdlib). */
  static final List<String> STD_LIBRARIES = List.of("nn", "peft", "route", "compose");

  /**
   * Builtin name to its signature as written in calls ("softmax(x, axis = -1)"), read from the
   * compiler's table so the editor shows what the compiler accepts.
   */
  static final Map<String, String> BUILTINS = builtins();

  private static Map<String, String> builtins() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String name : BuiltinTable.names()) {
      m.put(name, BuiltinTable.signature(name));
    }
    return Collections.unmodifiableMap(m);
  }

  /** A module of the standard library: its library ("std.nn") and its header line. */
  record StdModule(String name, String library, String signature) {}

  private static final Pattern MODULE =
      Pattern.compile("(?m)^[ \\t]*module[ \\t]+([A-Za-z_][A-Za-z0-9_]*)([^{\\r\\n]*)");
  private static Map<String, StdModule> stdModules;

  private Catalog() {}

  /** Module name to module, read once from the std/*.cmod resources on the class path. */
  static synchronized Map<String, StdModule> stdModules() {
    if (stdModules == null) {
      Map<String, StdModule> m = new LinkedHashMap<>();
      for (String lib : STD_LIBRARIES) {
        try (InputStream in =
            Catalog.class.getClassLoader().getResourceAsStream("std/" + lib + ".cmod")) {
          if (in == null) {
            continue;
          }
          Matcher mt = MODULE.matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
          while (mt.find()) {
            String name = mt.group(1);
            m.putIfAbsent(
                name, new StdModule(name, "std." + lib, ("module " + name + mt.group(2)).strip()));
          }
        } catch (IOException e) {
          System.err.println("cmod-lsp: cannot read std/" + lib + ".cmod: " + e.getMessage());
        }
      }
      stdModules = m;
    }
    return stdModules;
  }
}
