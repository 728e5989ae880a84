package dev.cmod.cli.deploy;

import dev.cmod.ir.io.AtomicFiles;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The files of one serving layout by their path inside the output folder ({@code /}-separated), in
 * the order they are written. Paths are checked when added, so no layout can name a file outside
 * its folder: every segment is a plain name (no {@code .}, {@code ..}, empty segment, backslash or
 * leading slash).
 */
public final class Layout {
  private final Map<String, AtomicFiles.Content> files = new LinkedHashMap<>();

  /** Adds a text file (UTF-8). */
  public Layout text(String path, String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    return file(path, os -> os.write(b));
  }

  /** Adds a file written from a stream. */
  public Layout file(String path, AtomicFiles.Content content) {
    checkPath(path);
    if (files.putIfAbsent(path, content) != null) {
      throw new IllegalArgumentException("two files at " + path);
    }
    return this;
  }

  public Map<String, AtomicFiles.Content> files() {
    return Collections.unmodifiableMap(files);
  }

  /** Whether {@code name} can be one segment of a path in a layout (a model's folder name). */
  public static boolean isPlainName(String name) {
    return name != null
        && !name.isEmpty()
        && name.length() <= 128
        && !name.startsWith(".")
        && name.chars()
            .allMatch(c -> Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.');
  }

  private static void checkPath(String path) {
    for (String seg : path.split("/", -1)) {
      if (!isPlainName(seg)) {
        throw new IllegalArgumentException("not a plain relative path: " + path);
      }
    }
  }
}
