package dev.cmod.fuzz;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * File-system situations for the hostile-file tests: FIFOs, sockets, links, sparse files; a
 * snapshot of a folder tree to prove nothing was written or changed; a watchdog that unblocks a
 * command stuck on a FIFO; and child JVMs with their own heap, options and environment.
 */
final class Hostile {
  private Hostile() {}

  private static Boolean fifos;

  /** Whether {@code mkfifo} works here. */
  static synchronized boolean canMakeFifo() {
    if (fifos == null) {
      try {
        Path d = Files.createTempDirectory("cmod-fifo-probe");
        try {
          mkfifo(d.resolve("p"));
          fifos = true;
        } catch (IOException e) {
          fifos = false;
        } finally {
          Files.deleteIfExists(d.resolve("p"));
          Files.deleteIfExists(d);
        }
      } catch (IOException e) {
        fifos = false;
      }
    }
    return fifos;
  }

  static Path mkfifo(Path p) throws IOException {
    Files.createDirectories(p.toAbsolutePath().getParent());
    try {
      Process pr = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
      if (!pr.waitFor(10, TimeUnit.SECONDS)
          || pr.exitValue() != 0
          || !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("mkfifo failed for " + p);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    return p;
  }

  /**
   * A Unix domain socket file at {@code p} (the listening channel is closed again; the file stays).
   */
  static Path socket(Path p) throws IOException {
    Files.createDirectories(p.toAbsolutePath().getParent());
    try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.bind(UnixDomainSocketAddress.of(p));
    }
    return p;
  }

  /** A sparse file of {@code size} bytes: no blocks are written. */
  static Path sparse(Path p, long size) throws IOException {
    return sparse(p, new byte[0], size);
  }

  static Path sparse(Path p, byte[] head, long size) throws IOException {
    Files.createDirectories(p.toAbsolutePath().getParent());
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.write(head);
      f.setLength(size);
    }
    return p;
  }

  /** The process umask (as {@code sh -c umask} prints it), or 022 when it cannot be read. */
  static int umask() {
    try {
      Process p = new ProcessBuilder("sh", "-c", "umask").start();
      String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
      p.waitFor(10, TimeUnit.SECONDS);
      return Integer.parseInt(s, 8);
    } catch (IOException | InterruptedException | NumberFormatException e) {
      return 022;
    }
  }

  /** The permission bits of a file, e.g. 0644. */
  static int mode(Path p) throws IOException {
    int m = 0;
    String s =
        PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    for (int i = 0; i < 9; i++) {
      m = (m << 1) | (s.charAt(i) == '-' ? 0 : 1);
    }
    return m;
  }

  /**
   * Every entry of a tree (links not followed): its kind, size, mode and, for regular files up to 8
   * MiB, a CRC of the content (larger ones by size and modification time); a link by its target.
   */
  static Map<String, String> snapshot(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return out;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        BasicFileAttributes a =
            Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        String rel = root.relativize(p).toString();
        String v;
        if (a.isSymbolicLink()) {
          v = "link->" + Files.readSymbolicLink(p);
        } else if (a.isDirectory()) {
          v = "dir " + modeOrQ(p);
        } else if (a.isRegularFile()) {
          String content;
          if (a.size() <= 8 << 20) {
            CRC32 c = new CRC32();
            c.update(Files.readAllBytes(p));
            content = Long.toHexString(c.getValue());
          } else {
            content = "mtime " + a.lastModifiedTime().toMillis();
          }
          v = "file " + a.size() + " " + modeOrQ(p) + " " + content;
        } else {
          v = "other " + modeOrQ(p);
        }
        out.put(rel, v);
      }
    }
    return out;
  }

  private static String modeOrQ(Path p) {
    try {
      return Integer.toOctalString(mode(p));
    } catch (IOException | UnsupportedOperationException e) {
      return "?";
    }
  }

  /** What differs between two snapshots: "+new", "-gone", "~changed" paths. */
  static List<String> diff(Map<String, String> before, Map<String, String> after) {
    List<String> d = new ArrayList<>();
    for (Map.Entry<String, String> e : after.entrySet()) {
      String b = before.get(e.getKey());
      if (b == null) {
        d.add("+" + e.getKey());
      } else if (!b.equals(e.getValue())) {
        d.add("~" + e.getKey());
      }
    }
    for (String k : before.keySet()) {
      if (!after.containsKey(k)) {
        d.add("-" + k);
      }
    }
    return d;
  }

  /**
   * Unblocks a command stuck on a FIFO under {@code root}: after {@code afterMillis} every FIFO
   * there is opened read-write (which completes any pending open at the other end) and closed
   * again, a few times. {@link #fired()} tells whether it had to.
   */
  static final class Watchdog implements AutoCloseable {
    private final Thread thread;
    private volatile boolean done;
    private volatile boolean fired;

    Watchdog(Path root, long afterMillis) {
      thread =
          new Thread(
              () -> {
                long end = System.currentTimeMillis() + afterMillis;
                try {
                  while (!done && System.currentTimeMillis() < end) {
                    Thread.sleep(20);
                  }
                  while (!done) {
                    List<Path> pipes = new ArrayList<>();
                    try (Stream<Path> s = Files.walk(root)) {
                      s.filter(p -> isFifo(p)).forEach(pipes::add);
                    } catch (IOException | RuntimeException e) {
                      // the tree changed meanwhile
                    }
                    for (Path p : pipes) {
                      fired = true;
                      try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                        byte[] buf = new byte[1 << 16];
                        Thread.sleep(50);
                        // drain what a writer put in, without blocking
                        while (f.getChannel().size() > 0 && f.read(buf) > 0) {
                          // discard
                        }
                      } catch (IOException e) {
                        // keep trying
                      }
                    }
                    Thread.sleep(200);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "fifo-watchdog");
      thread.setDaemon(true);
      thread.start();
    }

    boolean fired() {
      return fired;
    }

    @Override
    public void close() {
      done = true;
      thread.interrupt();
    }
  }

  static boolean isFifo(Path p) {
    try {
      BasicFileAttributes a =
          Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      return a.isOther() && "p".equals(kindLetter(p));
    } catch (IOException e) {
      return false;
    }
  }

  private static String kindLetter(Path p) {
    try {
      Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      int m = (Integer) mode;
      return (m & 0170000) == 0010000 ? "p" : "?";
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  /**
   * Runs {@code cmod args} through {@code Main.main} (the launcher's path) in a child JVM: heap
   * {@code -Xmx<heap>}, extra JVM options, extra environment, working directory {@code cwd}.
   */
  static Cli.Run child(
      Path cwd,
      String heap,
      List<String> jvmOpts,
      Map<String, String> env,
      long timeoutSeconds,
      String... args)
      throws IOException, InterruptedException {
    List<String> opts = new ArrayList<>(List.of("-XX:TieredStopAtLevel=1", "-Xshare:auto"));
    opts.addAll(jvmOpts);
    return Cli.child(cwd, heap, opts, env, timeoutSeconds, args);
  }
}
