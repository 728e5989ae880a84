package dev.cmod.ir.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;

/**
 * The one way cmod opens a file for reading. Every file is checked before it is opened (so a FIFO,
 * device, socket or folder is refused at once instead of blocking or reading forever) and its size
 * is checked against a limit before a byte is read.
 *
 * <p>Files read on a model's behalf ({@link Policy#MODEL}: ONNX external data, {@code import onnx}
 * and {@code import weights} files) must moreover be a plain file with exactly one link: opened
 * without following a symbolic link, and then checked on the opened file itself (on Linux through
 * {@code /proc/self/fd}), so a hard link to a file elsewhere is refused and a swap of the path
 * between the check and the read cannot smuggle another file in.
 */
public final class SafeFiles {
  /** How strict the check is. */
  public enum Policy {
    /**
     * A path the user gave on the command line: symbolic links are followed; the target must be a
     * regular file.
     */
    USER,
    /** A path named by a model or program: no symbolic link, one hard link, regular file. */
    MODEL
  }

  /**
   * The file cannot be read under the policy; the message is written for users (without the path).
   */
  public static final class RefusedException extends IOException {
    public RefusedException(String message) {
      super(message);
    }
  }

  /** Default size limit of one file read whole: 2 GiB (the largest Java array). */
  public static final long MAX_WHOLE_FILE = Integer.MAX_VALUE - 8L;

  private SafeFiles() {}

  /** Reads a whole file after the checks; {@code limit} bounds its size in bytes. */
  public static byte[] readAll(Path file, Policy policy, long limit) throws IOException {
    try (FileChannel ch = open(file, policy, limit)) {
      byte[] data = new byte[(int) ch.size()]; // open checked the size against the limit
      ByteBuffer b = ByteBuffer.wrap(data);
      while (b.hasRemaining()) {
        if (ch.read(b) < 0) {
          break;
        }
      }
      if (b.hasRemaining()) {
        throw new RefusedException("changed while it was read (it became shorter)");
      }
      return data;
    }
  }

  /**
   * Opens a file for reading after the checks. The caller reads within {@code limit} bytes (the
   * size is checked here, before anything is read).
   */
  public static FileChannel open(Path file, Policy policy, long limit) throws IOException {
    Objects.requireNonNull(file);
    LinkOption[] how =
        policy == Policy.MODEL ? new LinkOption[] {LinkOption.NOFOLLOW_LINKS} : new LinkOption[0];
    BasicFileAttributes before;
    try {
      before = Files.readAttributes(file, BasicFileAttributes.class, how);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "no such file");
    }
    refuseKind(before);
    if (before.size() > limit) {
      throw new RefusedException(
          "is " + before.size() + " bytes, over the limit of " + limit + " bytes");
    }
    if (policy == Policy.MODEL) {
      int links = links(file, true);
      if (links > 1) {
        throw new RefusedException(
            "has "
                + links
                + " hard links; cmod reads a file named by a model only when it has one");
      }
    }
    OpenOption[] opts =
        policy == Policy.MODEL
            ? new OpenOption[] {StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS}
            : new OpenOption[] {StandardOpenOption.READ};
    FileChannel ch;
    try {
      ch = FileChannel.open(file, opts);
    } catch (java.nio.file.FileSystemException e) {
      if (policy == Policy.MODEL && Files.isSymbolicLink(file)) {
        throw new RefusedException(
            "is a symbolic link; cmod does not follow links named by a model");
      }
      throw e;
    }
    try {
      if (policy == Policy.MODEL) {
        checkOpened(file, before);
      }
      if (ch.size() > limit) {
        throw new RefusedException(
            "is " + ch.size() + " bytes, over the limit of " + limit + " bytes");
      }
      return ch;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Refuses anything that is not a regular file, naming what it is. */
  static void refuseKind(BasicFileAttributes a) throws RefusedException {
    if (a.isRegularFile()) {
      return;
    }
    String kind =
        a.isDirectory()
            ? "a folder"
            : a.isSymbolicLink()
                ? "a symbolic link"
                : "not a regular file (a FIFO, device or socket)";
    throw new RefusedException("is " + kind + "; cmod reads only regular files");
  }

  /**
   * What kind of file system object {@code p} is (not following links), for messages; null when
   * absent.
   */
  public static String kindOf(Path p) {
    try {
      BasicFileAttributes a =
          Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (a.isRegularFile()) {
        return "a regular file";
      }
      if (a.isDirectory()) {
        return "a folder";
      }
      if (a.isSymbolicLink()) {
        return "a symbolic link";
      }
      return "a FIFO, device or socket";
    } catch (IOException e) {
      return null;
    }
  }

  private static int links(Path p, boolean noFollow) {
    try {
      Object n =
          noFollow
              ? Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS)
              : Files.getAttribute(p, "unix:nlink");
      return n instanceof Integer i ? i : 1;
    } catch (UnsupportedOperationException | IllegalArgumentException | IOException e) {
      return 1; // no link counts on this file system
    }
  }

  /**
   * Checks the file that was opened, not the path: on Linux every descriptor of this process that
   * names the path is looked at through {@code /proc/self/fd} (which resolves to the opened file
   * itself). Elsewhere the path is checked again and must still be the same file.
   */
  private static void checkOpened(Path file, BasicFileAttributes before) throws IOException {
    Path fds = Path.of("/proc/self/fd");
    Path want = file.toAbsolutePath().normalize();
    if (Files.isDirectory(fds)) {
      boolean found = false;
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(fds)) {
        for (Path fd : ds) {
          Path target;
          try {
            target = Files.readSymbolicLink(fd);
          } catch (IOException | UnsupportedOperationException e) {
            continue;
          }
          if (!target.equals(want)) {
            continue;
          }
          BasicFileAttributes a;
          try {
            a = Files.readAttributes(fd, BasicFileAttributes.class);
          } catch (IOException e) {
            continue; // closed meanwhile
          }
          found = true;
          refuseKind(a);
          int n = links(fd, false);
          if (n > 1) {
            throw new RefusedException(
                "has "
                    + n
                    + " hard links; cmod reads a file named by a model only when it has one");
          }
          if (before.fileKey() != null
              && a.fileKey() != null
              && !before.fileKey().equals(a.fileKey())) {
            throw new RefusedException("was replaced while it was opened");
          }
        }
      }
      if (found) {
        return;
      }
    }
    BasicFileAttributes after =
        Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    refuseKind(after);
    if (before.fileKey() != null && !before.fileKey().equals(after.fileKey())) {
      throw new RefusedException("was replaced while it was opened");
    }
    int n = links(file, true);
    if (n > 1) {
      throw new RefusedException(
          "has " + n + " hard links; cmod reads a file named by a model only when it has one");
    }
  }

  /** A short user-facing reason for an I/O failure. */
  public static String describe(IOException e) {
    if (e instanceof RefusedException) {
      return e.getMessage();
    }
    return AtomicFiles.describe(e);
  }
}
