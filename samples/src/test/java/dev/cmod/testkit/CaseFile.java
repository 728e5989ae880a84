package dev.cmod.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The format of the test corpora ({@code pytorch-parity.cases}, {@code builtins.cases}): blocks
 * {@code [NAME]} of {@code key = value} lines, a key repeated for a list, {@code #} comments. It
 * exists so that a test case is a few lines of data beside its siblings rather than code; each
 * corpus gives the keys their meaning.
 */
public final class CaseFile {
  private CaseFile() {}

  /** The blocks of the test resource {@code resource} by name, in file order; values in order. */
  public static Map<String, Map<String, List<String>>> read(String resource) {
    String text;
    try (InputStream in = CaseFile.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + resource);
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, Map<String, List<String>>> blocks = new LinkedHashMap<>();
    Map<String, List<String>> block = null;
    int lineNo = 0;
    for (String raw : text.split("\n", -1)) {
      lineNo++;
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("[") && line.endsWith("]")) {
        block = new LinkedHashMap<>();
        if (blocks.put(line.substring(1, line.length() - 1), block) != null) {
          throw new IllegalStateException(resource + ":" + lineNo + ": a second " + line);
        }
        continue;
      }
      int eq = line.indexOf(" = ");
      if (block == null || eq < 0) {
        throw new IllegalStateException(
            resource + ":" + lineNo + ": expected [NAME] or KEY = VALUE");
      }
      block
          .computeIfAbsent(line.substring(0, eq).strip(), k -> new ArrayList<>())
          .add(line.substring(eq + 3).strip());
    }
    return blocks;
  }
}
