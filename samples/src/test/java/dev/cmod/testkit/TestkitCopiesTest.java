package dev.cmod.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * There is no shared test module, so {@link SkipReport}, {@link Need} and {@link Requires} are
 * copied into the test sources of the modules that use them: the copies must stay identical, and
 * every copy of the listener must be registered with the JUnit Platform.
 */
class TestkitCopiesTest {
  private static final List<String> SHARED = List.of("SkipReport.java", "Need.java", "Requires.java");
  private static final String SERVICE = "src/test/resources/META-INF/services/org.junit.platform.launcher.TestExecutionListener";

  @Test
  void copiesAreIdenticalAndRegistered() throws IOException {
    Path root = Need.root();
    Path here = root.resolve("samples/src/test/java/dev/cmod/testkit");
    TreeMap<String, Integer> copies = new TreeMap<>();
    for (Path module : modules(root)) {
      Path dir = module.resolve("src/test/java/dev/cmod/testkit");
      for (String name : SHARED) {
        Path f = dir.resolve(name);
        if (!Files.isRegularFile(f) || dir.equals(here)) {
          continue;
        }
        assertEquals(Files.readString(here.resolve(name)), Files.readString(f),
            root.relativize(f) + " differs from " + root.relativize(here.resolve(name)));
        copies.merge(name, 1, Integer::sum);
      }
      if (Files.isRegularFile(dir.resolve("SkipReport.java"))) {
        Path service = module.resolve(SERVICE);
        assertTrue(Files.isRegularFile(service) && Files.readString(service).strip().equals(SkipReport.class.getName()),
            root.relativize(module) + " does not register " + SkipReport.class.getName() + " in " + SERVICE);
      }
    }
    assertTrue(copies.getOrDefault("SkipReport.java", 0) >= 4, "copies of SkipReport found: " + copies);
    assertTrue(Files.readString(root.resolve("samples/" + SERVICE)).strip().equals(SkipReport.class.getName()));
  }

  /** The folders one and two levels below the root that hold a pom.xml (the modules, ide/lsp included). */
  private static List<Path> modules(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root, 2)) {
      return s.filter(d -> !d.equals(root) && Files.isRegularFile(d.resolve("pom.xml"))).sorted().toList();
    }
  }
}
