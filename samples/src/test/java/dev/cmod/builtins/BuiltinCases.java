package dev.cmod.builtins;

import dev.cmod.testkit.CaseFile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One tiny model per builtin of language.md section 8 (and per interesting form of it), read from
 * the corpus {@code src/test/resources/builtins.cases}. Each case declares its inputs with symbolic
 * dims where that makes sense (an input {@code f32[seq, 8]} is {@code f32[batch, seq, 8]} in the
 * model) and two assignments of sizes to those symbols.
 */
final class BuiltinCases {
  private BuiltinCases() {}

  /** A case: the builtin it exercises, a model source, and two sets of symbolic sizes. */
  record Case(String name, String source, Map<String, Long> sizesA, Map<String, Long> sizesB) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static final String CORPUS = "/builtins.cases";
  private static final Map<String, Map<String, List<String>>> BLOCKS = CaseFile.read(CORPUS);
  private static final List<String> DEFAULT_SIZES = BLOCKS.get("defaults").get("sizes");

  /** The default sizes of the symbols: the first and the second run of a case. */
  static final Map<String, Long> A = sizes(DEFAULT_SIZES.get(0));

  static final Map<String, Long> B = sizes(DEFAULT_SIZES.get(1));

  static List<Case> all() {
    List<Case> cases = new ArrayList<>();
    BLOCKS.forEach(
        (name, b) -> {
          if (name.equals("defaults")) {
            return;
          }
          StringBuilder source = new StringBuilder("model T {\n");
          for (String line : b.get("body")) {
            source.append("  ").append(line).append('\n');
          }
          source.append("}\n");
          List<String> s = b.getOrDefault("sizes", DEFAULT_SIZES);
          if (s.size() != 2) {
            throw new IllegalStateException(CORPUS + " [" + name + "]: needs two sizes lines");
          }
          cases.add(new Case(name, source.toString(), sizes(s.get(0)), sizes(s.get(1))));
        });
    return cases;
  }

  /** {@code batch=2 seq=3 ...} as a map. */
  private static Map<String, Long> sizes(String line) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (String kv : line.split("\\s+")) {
      String[] p = kv.split("=", 2);
      m.put(p[0], Long.valueOf(p[1]));
    }
    return Map.copyOf(m);
  }
}
