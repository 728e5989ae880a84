package dev.cmod.compiler.sema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The shape of elaboration, read from its sources: the parts and helpers reach each other through
 * {@link ElabContext} only, never through the {@link Elaborator} entry point, and only the session
 * implements the interface.
 */
class ElabPartsTest {
  private static final Path DIR = Path.of("src/main/java/dev/cmod/compiler/sema");

  /** The code of each source file of the package (comments dropped), by file name. */
  private static List<String[]> sources() throws IOException {
    List<String[]> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(DIR)) {
      for (Path p : s.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
        String code =
            Files.readString(p)
                .replaceAll("(?s)/\\*.*?\\*/", "")
                .replaceAll("//[^\n]*", "")
                .replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"");
        out.add(new String[] {p.getFileName().toString(), code});
      }
    }
    return out;
  }

  @Test
  void noPartReachesBackIntoTheElaborator() throws IOException {
    Pattern use = Pattern.compile("\\bElaborator\\b");
    List<String> offenders = new ArrayList<>();
    List<String[]> files = sources();
    for (String[] f : files) {
      if (!f[0].equals("Elaborator.java") && use.matcher(f[1]).find()) {
        offenders.add(f[0]);
      }
    }
    assertTrue(files.size() > 20, "read the package's sources from " + DIR.toAbsolutePath());
    assertEquals(List.of(), offenders);
  }

  @Test
  void onlyTheSessionImplementsTheInterface() throws IOException {
    Pattern impl = Pattern.compile("implements\\s+[^{]*\\bElabContext\\b");
    List<String> implementors = new ArrayList<>();
    for (String[] f : sources()) {
      if (impl.matcher(f[1]).find()) {
        implementors.add(f[0]);
      }
    }
    assertEquals(List.of("ElabSession.java"), implementors);
  }
}
