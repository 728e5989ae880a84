package dev.cmod.ir.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one way cmod writes a file: through a temporary file in the same folder, moved into place
 * only when complete. Only a regular file (or nothing) is ever replaced: a folder, a device node, a
 * FIFO, a socket or a symbolic link at the target is refused before anything is written. The
 * temporary file is created like any new file, so the result gets the mode the umask gives (0644
 * typically).
 */
public final class AtomicFiles {
  private static final SecureRandom RANDOM = new SecureRandom();

  private AtomicFiles() {}

  /** A short user-facing reason for an I/O failure. */
  public static String describe(IOException e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file or folder";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
      return fse.getReason();
    }
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }

  /**
   * Why {@code target} cannot be written, or null when it can (absent, or a regular file in an
   * existing folder).
   */
  public static String refusal(Path target) {
    Path abs = target.toAbsolutePath();
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(abs, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      a = null;
    }
    if (a != null && !a.isRegularFile()) {
      if (a.isDirectory()) {
        return "is a folder; give a file name inside it";
      }
      if (a.isSymbolicLink()) {
        return "is a symbolic link; cmod replaces only regular files (give the link's target instead)";
      }
      return "is not a regular file (a device, FIFO or socket); cmod replaces only regular files";
    }
    Path dir = abs.getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      return "is in a folder that does not exist (" + dir + ")";
    }
    if (dir != null && !Files.isWritable(dir)) {
      return "is in a folder cmod may not write to (" + dir + ")";
    }
    return null;
  }

  /** Writes one file; on failure nothing is left behind. */
  public static void write(Path target, byte[] data) {
    Map<Path, byte[]> one = new LinkedHashMap<>();
    one.put(target, data);
    writeAll(one);
  }

  /**
   * Writes several files, all or none: every one is first written to its temporary file; only when
   * all are complete are they moved into place. If a move fails, the files already moved are
   * removed again (files that existed before are not restored: they were replaced).
   */
  public static void writeAll(Map<Path, byte[]> files) {
    Map<Path, Content> contents = new LinkedHashMap<>();
    files.forEach((p, b) -> contents.put(p, os -> os.write(b)));
    writeAllContents(contents);
  }

  /** What {@link #writeAllContents} writes into one file, streamed (any size). */
  @FunctionalInterface
  public interface Content {
    void writeTo(OutputStream os) throws IOException;
  }

  /** {@link #writeAll} for contents written to a stream: all files or none. */
  public static void writeAllContents(Map<Path, Content> files) {
    for (Path t : files.keySet()) {
      String why = refusal(t);
      if (why != null) {
        throw new TensorFileException("cannot write " + t + ": it " + why);
      }
    }
    List<Path[]> staged = new ArrayList<>();
    List<Path> moved = new ArrayList<>();
    boolean done = false;
    try {
      for (Map.Entry<Path, Content> e : files.entrySet()) {
        Path abs = e.getKey().toAbsolutePath();
        Path tmp = createTemp(abs);
        staged.add(new Path[] {tmp, abs});
        try (OutputStream os =
            Files.newOutputStream(
                tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
          e.getValue().writeTo(os);
        } catch (IOException ex) {
          throw new TensorFileException("cannot write " + e.getKey() + ": " + describe(ex), ex);
        }
      }
      for (Path[] s : staged) {
        String why = refusal(s[1]);
        if (why != null) {
          throw new TensorFileException("cannot write " + s[1] + ": it " + why);
        }
        try {
          try {
            Files.move(
                s[0], s[1], StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          } catch (AtomicMoveNotSupportedException ex) {
            Files.move(s[0], s[1], StandardCopyOption.REPLACE_EXISTING);
          }
        } catch (IOException ex) {
          throw new TensorFileException("cannot write " + s[1] + ": " + describe(ex), ex);
        }
        moved.add(s[1]);
      }
      done = true;
    } finally {
      for (Path[] s : staged) {
        deleteQuietly(s[0]);
      }
      if (!done) {
        for (Path m : moved) {
          deleteQuietly(m);
        }
      }
    }
  }

  /** A new, empty file next to {@code abs}, created with the default mode (umask applies). */
  private static Path createTemp(Path abs) {
    Path dir = abs.getParent();
    String base = abs.getFileName().toString();
    if (base.length() > 100) {
      base = base.substring(0, 100);
    }
    for (int attempt = 0; ; attempt++) {
      Path tmp =
          dir.resolve("." + base + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
      try {
        Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        return tmp;
      } catch (FileAlreadyExistsException e) {
        if (attempt > 16) {
          throw new TensorFileException(
              "cannot write " + abs + ": could not create a temporary file", e);
        }
      } catch (IOException e) {
        throw new TensorFileException("cannot write " + abs + ": " + describe(e), e);
      }
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // best effort
    }
  }
}
