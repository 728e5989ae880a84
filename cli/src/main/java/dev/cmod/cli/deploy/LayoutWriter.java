package dev.cmod.cli.deploy;

import dev.cmod.ir.io.AtomicFiles;
import dev.cmod.ir.io.TensorFileException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a {@link Layout} into its output folder all at once or not at all. Every file is first
 * written (through {@link AtomicFiles}) into a temporary folder beside the output folder; when all
 * are complete, the temporary folder becomes the output folder (one rename) or, when the output
 * folder exists, its files are moved into place one by one, and those already moved are removed
 * again if one fails. Nothing outside the output folder is written: a layout's paths are plain (see
 * {@link Layout}), the output folder and every folder on a path inside it must be real folders
 * (never symbolic links), and only regular files are replaced.
 */
public final class LayoutWriter {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Why a layout could not be written; nothing of it was left behind. */
  public static final class LayoutException extends RuntimeException {
    LayoutException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private LayoutWriter() {}

  /** Writes {@code layout} into {@code dir} and returns the files written, in layout order. */
  public static List<Path> write(Path dir, Layout layout) {
    Path abs = dir.toAbsolutePath().normalize();
    Path parent = abs.getParent();
    if (parent == null) {
      throw refused(dir, "is the root of the file system; give a folder inside it");
    }
    BasicFileAttributes a = attributes(abs);
    boolean exists = a != null;
    if (exists && !a.isDirectory()) {
      throw refused(
          dir,
          a.isSymbolicLink()
              ? "is a symbolic link; give the folder it points to instead"
              : "exists and is not a folder");
    }
    if (!Files.isDirectory(parent)) {
      throw refused(dir, "is in a folder that does not exist (" + parent + ")");
    }
    if (exists) {
      for (String rel : layout.files().keySet()) {
        checkInside(dir, abs, rel);
      }
    }
    Path tmp = createTempFolder(parent, abs.getFileName().toString());
    List<Path> written = new ArrayList<>();
    try {
      Map<Path, AtomicFiles.Content> staged = new LinkedHashMap<>();
      for (Map.Entry<String, AtomicFiles.Content> e : layout.files().entrySet()) {
        Path t = tmp.resolve(e.getKey());
        Files.createDirectories(t.getParent());
        staged.put(t, e.getValue());
      }
      AtomicFiles.writeAllContents(staged);
      if (!exists) {
        // one rename; a folder made at DIR meanwhile makes it fail rather than be replaced
        Files.move(tmp, abs);
      } else {
        moveInto(dir, tmp, abs, layout);
      }
      for (String rel : layout.files().keySet()) {
        written.add(dir.resolve(rel));
      }
      return written;
    } catch (IOException e) {
      throw new LayoutException("cannot write " + dir + ": " + AtomicFiles.describe(e), e);
    } catch (TensorFileException e) {
      throw new LayoutException(e.getMessage(), e);
    } finally {
      deleteTree(tmp);
    }
  }

  /** Moves every staged file to its place in the existing folder: all of them, or none. */
  private static void moveInto(Path dir, Path tmp, Path abs, Layout layout) throws IOException {
    List<Path> moved = new ArrayList<>();
    boolean done = false;
    try {
      for (String rel : layout.files().keySet()) {
        checkInside(dir, abs, rel);
        Path target = abs.resolve(rel);
        makeFolders(abs, target.getParent());
        move(tmp.resolve(rel), target);
        moved.add(target);
      }
      done = true;
    } finally {
      if (!done) {
        for (Path m : moved) {
          Files.deleteIfExists(m);
        }
      }
    }
  }

  /**
   * Refuses a path inside the existing output folder that goes through anything but real folders or
   * ends at anything but a regular file (or nothing).
   */
  private static void checkInside(Path dir, Path abs, String rel) {
    Path p = abs;
    String[] segs = rel.split("/");
    for (int i = 0; i < segs.length; i++) {
      p = p.resolve(segs[i]);
      BasicFileAttributes a = attributes(p);
      if (a == null) {
        return;
      }
      boolean last = i == segs.length - 1;
      if (a.isSymbolicLink()) {
        throw refused(
            dir.resolve(rel),
            "goes through a symbolic link (" + p + "); cmod writes only inside the output folder");
      }
      if (!last && !a.isDirectory()) {
        throw refused(dir.resolve(rel), "needs the folder " + p + ", which is a file");
      }
      if (last && !a.isRegularFile()) {
        throw refused(
            dir.resolve(rel),
            "is not a regular file (a folder, device, FIFO or socket); cmod replaces only regular files");
      }
    }
  }

  private static void makeFolders(Path abs, Path folder) throws IOException {
    Path p = abs;
    for (Path seg : abs.relativize(folder)) {
      p = p.resolve(seg);
      BasicFileAttributes a = attributes(p);
      if (a == null) {
        Files.createDirectory(p);
      } else if (!a.isDirectory() || a.isSymbolicLink()) {
        throw new IOException(p + " is not a folder");
      }
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static Path createTempFolder(Path parent, String base) {
    if (base.length() > 100) {
      base = base.substring(0, 100);
    }
    for (int attempt = 0; ; attempt++) {
      Path tmp =
          parent.resolve("." + base + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
      try {
        return Files.createDirectory(tmp);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        if (attempt > 16) {
          throw new LayoutException("cannot create a temporary folder in " + parent, e);
        }
      } catch (IOException e) {
        throw new LayoutException("cannot write in " + parent + ": " + AtomicFiles.describe(e), e);
      }
    }
  }

  private static BasicFileAttributes attributes(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return null;
    }
  }

  private static void deleteTree(Path root) {
    if (attributes(root) == null) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException ignored) {
      // best effort: a leftover temporary folder is named as one (.NAME.xxxx.tmp)
    }
  }

  private static LayoutException refused(Path p, String why) {
    return refused(p, why, null);
  }

  private static LayoutException refused(Path p, String why, Throwable cause) {
    return new LayoutException("cannot write " + p + ": it " + why, cause);
  }
}
