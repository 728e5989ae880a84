package dev.cmod.compiler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * The compiler module does not depend on cmod-stdlib, so {@code import std.nn...} finds nothing on
 * its test classpath. Tests that need the real standard library call {@link #ensure()}, which
 * copies {@code stdlib/src/main/resources/std/*.cmod} into the test-classes folder (on the
 * classpath) unless the stdlib is already there.
 */
public final class TestStdlib {
  private static boolean done;

  private TestStdlib() {}

  public static synchronized void ensure() {
    if (done) {
      return;
    }
    try {
      Path classes =
          Path.of(TestStdlib.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      java.net.URL have = TestStdlib.class.getClassLoader().getResource("std/nn.cmod");
      if (have != null
          && !(have.getProtocol().equals("file") && Path.of(have.toURI()).startsWith(classes))) {
        done = true; // the real stdlib is on the classpath
        return;
      }
      // (re)copy every time, so that an edited stdlib is never shadowed by a stale copy
      Path src = findStdlibSources();
      Path dst = classes.resolve("std");
      Files.createDirectories(dst);
      try (Stream<Path> s = Files.list(src)) {
        for (Path p : s.filter(p -> p.toString().endsWith(".cmod")).toList()) {
          Files.copy(
              p, dst.resolve(p.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    done = true;
  }

  private static Path findStdlibSources() {
    Path dir = Path.of("").toAbsolutePath();
    for (int i = 0; i < 4 && dir != null; i++, dir = dir.getParent()) {
      Path p = dir.resolve("stdlib/src/main/resources/std");
      if (Files.isDirectory(p)) {
        return p;
      }
    }
    throw new IllegalStateException(
        "cannot find stdlib/src/main/resources/std from " + Path.of("").toAbsolutePath());
  }
}
