package dev.cmod.cli;

import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * File names for model outputs written by {@code cmod run --output-dir}. An output name comes from
 * the model (possibly a stranger's), so it is mapped to a plain file name: letters, digits, '.',
 * '-' and '_' are kept, every other character (path separators, control characters, ':') becomes
 * '_'; a name that would be empty, start with '.', or be too long is prefixed or cut; names that
 * map to the same file get a numeric suffix. The result never names a folder or a path outside the
 * output folder.
 */
final class OutputNames {
  static final int MAX_STEM = 120;

  private OutputNames() {}

  /** Output name to file name ({@code NAME.npy}), in the given order. */
  static Map<String, String> fileNames(Collection<String> outputs) {
    Map<String, String> out = new LinkedHashMap<>();
    Set<String> taken = new HashSet<>();
    for (String name : outputs) {
      String stem = stem(name);
      String file = stem + ".npy";
      for (int k = 2; !taken.add(file.toLowerCase(Locale.ROOT)); k++) {
        file = stem + "_" + k + ".npy";
      }
      out.put(name, file);
    }
    return out;
  }

  static String stem(String name) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < name.length() && sb.length() < MAX_STEM; i++) {
      char c = name.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '-'
              || c == '_';
      sb.append(ok ? c : '_');
    }
    String s = sb.toString();
    if (s.isEmpty() || s.startsWith(".")) {
      s = "output_" + s;
    }
    return s;
  }
}
