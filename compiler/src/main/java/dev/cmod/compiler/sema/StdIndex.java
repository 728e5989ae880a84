package dev.cmod.compiler.sema;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Which stdlib library declares which module, for "did you mean / import it" hints. */
final class StdIndex {
  /** The stdlib libraries (resources std/NAME.cmod). */
  static final List<String> LIBRARIES = List.of("nn", "peft", "route", "compose");

  private static final Pattern MODULE =
      Pattern.compile("(?m)^\\s*module\\s+([A-Za-z_][A-Za-z0-9_]*)");
  private static Map<String, String> index;

  private StdIndex() {}

  /** Module name to library ("Linear" to "std.nn"). */
  static synchronized Map<String, String> modules() {
    if (index == null) {
      Map<String, String> m = new LinkedHashMap<>();
      for (String lib : LIBRARIES) {
        try (InputStream in =
            StdIndex.class.getClassLoader().getResourceAsStream("std/" + lib + ".cmod")) {
          if (in == null) {
            continue;
          }
          Matcher mt = MODULE.matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
          while (mt.find()) {
            m.putIfAbsent(mt.group(1), "std." + lib);
          }
        } catch (IOException e) {
          // hints only
        }
      }
      index = m;
    }
    return index;
  }
}
