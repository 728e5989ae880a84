package dev.cmod.lsp;

import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * The server's input as LSP4J sees it: the client's Content-Length framed messages, re-framed, with
 * every message that could break the reader removed before LSP4J parses it.
 *
 * <p>LSP4J's reader parses a message recursively and allocates {@code Content-Length} bytes up
 * front; a message nested a few thousand levels deep overflows its stack and ends its read loop for
 * good, and a huge length exhausts memory. This stream reads the frames itself and passes on only
 * messages that are at most {@link #maxDepth} levels deep and at most {@link #maxBytes} long. A
 * message that is too deep is reported to {@link Rejections} with its id, when it has one at the
 * top level; one that is too long is skipped without being stored, and a malformed header block is
 * dropped. Reading then goes on with the next message. Depth is measured with Gson's own streaming
 * (iterative) tokenizer in lenient mode, the mode LSP4J parses in, so comments or single-quoted
 * strings cannot hide brackets from the check.
 */
final class FrameGuard extends InputStream {
  /** Told about a message that was dropped. */
  interface Rejections {
    /**
     * @param id the message's id (a string or number), or null when it has none or it could not be
     *     found
     * @param reason why it was dropped, for the error response or the log
     */
    void rejected(JsonPrimitive id, String reason);
  }

  static final int DEFAULT_MAX_DEPTH = 512;
  static final long DEFAULT_MAX_BYTES = 64L << 20;

  /** One header line, and a whole header block: real clients send well under 100 bytes. */
  static final int MAX_HEADER_LINE = 8 << 10;

  static final int MAX_HEADER_BLOCK = 64 << 10;

  private final InputStream in;
  private final int maxDepth;
  private final long maxBytes;
  private final Rejections rejections;

  /** The frame being handed out: its header, then its body. */
  private byte[] head = new byte[0];

  private byte[] body = new byte[0];
  private int pos; // over head then body
  private boolean eof;

  FrameGuard(InputStream in, int maxDepth, long maxBytes, Rejections rejections) {
    this.in = in;
    this.maxDepth = maxDepth;
    this.maxBytes = maxBytes;
    this.rejections = rejections;
  }

  /**
   * With the limits of the system properties {@code cmod.lsp.maxDepth} and {@code
   * cmod.lsp.maxMessageBytes}.
   */
  static FrameGuard withDefaults(InputStream in, Rejections rejections) {
    return new FrameGuard(
        in,
        Integer.getInteger("cmod.lsp.maxDepth", DEFAULT_MAX_DEPTH),
        Long.getLong("cmod.lsp.maxMessageBytes", DEFAULT_MAX_BYTES),
        rejections);
  }

  @Override
  public int read() throws IOException {
    if (!fill()) {
      return -1;
    }
    int b = pos < head.length ? head[pos] : body[pos - head.length];
    pos++;
    return b & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (!fill()) {
      return -1;
    }
    int n;
    if (pos < head.length) {
      n = Math.min(len, head.length - pos);
      System.arraycopy(head, pos, b, off, n);
    } else {
      n = Math.min(len, head.length + body.length - pos);
      System.arraycopy(body, pos - head.length, b, off, n);
    }
    pos += n;
    return n;
  }

  @Override
  public int available() {
    return head.length + body.length - pos;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }

  /** Makes sure there is something left to hand out; false at the end of the input. */
  private boolean fill() throws IOException {
    while (pos >= head.length + body.length) {
      if (eof || !nextFrame()) {
        eof = true;
        return false;
      }
    }
    return true;
  }

  /** Reads frames until one can be passed on; false at the end of the input. */
  private boolean nextFrame() throws IOException {
    while (true) {
      Header h = readHeader();
      if (h == null) {
        return false;
      }
      if (h.problem != null) {
        log("dropped a message: " + h.problem);
        continue;
      }
      if (h.length > maxBytes) {
        log("dropped a message of " + h.length + " bytes (the limit is " + maxBytes + ")");
        if (!discard(h.length)) {
          return false;
        }
        continue;
      }
      byte[] content = readBody((int) h.length);
      if (content == null) {
        return false;
      }
      String tooDeep = depthProblem(content);
      if (tooDeep != null) {
        JsonPrimitive id = idOf(content);
        log("dropped a message" + (id != null ? " with id " + id : "") + ": " + tooDeep);
        try {
          rejections.rejected(id, tooDeep);
        } catch (RuntimeException e) {
          log("could not answer a dropped message: " + e);
        }
        continue;
      }
      String header =
          "Content-Length: "
              + content.length
              + "\r\n"
              + (h.contentType != null ? "Content-Type: " + h.contentType + "\r\n" : "")
              + "\r\n";
      head = header.getBytes(StandardCharsets.US_ASCII);
      body = content;
      pos = 0;
      return true;
    }
  }

  /** A header block: the length, a Content-Type worth passing on, or why it is unusable. */
  private static final class Header {
    long length = -1;
    String contentType;
    String problem;
  }

  /**
   * Reads header lines up to an empty line. Lines before any header (stray newlines) are skipped.
   * Null at the end of the input.
   */
  private Header readHeader() throws IOException {
    Header h = new Header();
    int total = 0;
    boolean any = false;
    StringBuilder line = new StringBuilder();
    while (true) {
      line.setLength(0);
      boolean tooLong = false;
      int c;
      while ((c = in.read()) != -1 && c != '\n') {
        total++;
        if (line.length() < MAX_HEADER_LINE) {
          if (c != '\r') {
            line.append((char) c);
          }
        } else {
          tooLong = true;
        }
      }
      if (c == -1) {
        return null; // the end of the input, in or before a header block
      }
      if (line.length() == 0 && !tooLong) {
        if (any) {
          if (h.problem == null && h.length < 0) {
            h.problem = "no Content-Length header";
          }
          return h;
        }
        continue; // a stray line break between messages
      }
      any = true;
      if (h.problem != null) {
        continue; // read on to the end of the block
      }
      if (tooLong || total > MAX_HEADER_BLOCK) {
        h.problem =
            "header longer than " + (tooLong ? MAX_HEADER_LINE : MAX_HEADER_BLOCK) + " bytes";
        continue;
      }
      parseHeaderLine(line.toString(), h);
    }
  }

  private static void parseHeaderLine(String line, Header h) {
    // the rest of a message whose length was wrong may precede the next header on its line
    int at = line.toLowerCase(Locale.ROOT).lastIndexOf("content-length:");
    if (at > 0) {
      line = line.substring(at);
    }
    int colon = line.indexOf(':');
    if (colon <= 0) {
      h.problem = "malformed header line";
      return;
    }
    String name = line.substring(0, colon).trim();
    String value = line.substring(colon + 1).trim();
    if (name.equalsIgnoreCase("Content-Length")) {
      if (value.isEmpty()
          || value.length() > 18
          || !value.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
        h.problem =
            value.length() > 18 && value.chars().allMatch(ch -> ch >= '0' && ch <= '9')
                ? "Content-Length " + value.substring(0, 18) + "... is too large"
                : "bad Content-Length";
        return;
      }
      h.length = Long.parseLong(value);
    } else if (name.equalsIgnoreCase("Content-Type")) {
      if (value.length() <= 200 && value.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f)) {
        h.contentType = value;
      }
    } // other headers are ignored, as LSP4J does
  }

  /** Discards n bytes without keeping them; false if the input ends first. */
  private boolean discard(long n) throws IOException {
    byte[] scratch = new byte[64 << 10];
    while (n > 0) {
      int r = in.read(scratch, 0, (int) Math.min(scratch.length, n));
      if (r < 0) {
        return false;
      }
      n -= r;
    }
    return true;
  }

  /**
   * Reads a body, growing the buffer as bytes arrive (a claimed length costs nothing until sent).
   */
  private byte[] readBody(int n) throws IOException {
    byte[] buf = new byte[Math.min(n, 1 << 20)];
    int got = 0;
    while (got < n) {
      if (got == buf.length) {
        buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
      }
      int r = in.read(buf, got, buf.length - got);
      if (r < 0) {
        return null;
      }
      got += r;
    }
    return buf;
  }

  /** Why a body nests too deeply, or null. A body that is not JSON is LSP4J's to report. */
  String depthProblem(byte[] content) {
    try (JsonReader r = reader(content)) {
      int depth = 0;
      while (true) {
        JsonToken t = r.peek();
        switch (t) {
          case BEGIN_ARRAY -> {
            r.beginArray();
            if (++depth > maxDepth) {
              return "the message nests deeper than " + maxDepth + " levels";
            }
          }
          case BEGIN_OBJECT -> {
            r.beginObject();
            if (++depth > maxDepth) {
              return "the message nests deeper than " + maxDepth + " levels";
            }
          }
          case END_ARRAY -> {
            r.endArray();
            depth--;
          }
          case END_OBJECT -> {
            r.endObject();
            depth--;
          }
          case NAME -> r.nextName();
          case END_DOCUMENT -> {
            return null;
          }
          default -> r.skipValue(); // a primitive: skipping it never recurses
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The top-level "id" of a message (a string or a number), or null. */
  static JsonPrimitive idOf(byte[] content) {
    try (JsonReader r = reader(content)) {
      if (r.peek() != JsonToken.BEGIN_OBJECT) {
        return null;
      }
      r.beginObject();
      while (r.hasNext()) {
        String name = r.nextName();
        JsonToken t = r.peek();
        if (name.equals("id") && t == JsonToken.STRING) {
          return new JsonPrimitive(r.nextString());
        }
        if (name.equals("id") && t == JsonToken.NUMBER) {
          return new JsonPrimitive(new java.math.BigDecimal(r.nextString()));
        }
        r.skipValue(); // iterative in Gson, whatever the depth
      }
    } catch (IOException | RuntimeException e) {
      // malformed: no id
    }
    return null;
  }

  private static JsonReader reader(byte[] content) {
    JsonReader r =
        new JsonReader(
            new InputStreamReader(new ByteArrayInputStream(content), StandardCharsets.UTF_8));
    r.setStrictness(Strictness.LENIENT);
    return r;
  }

  private static void log(String s) {
    System.err.println("cmod-lsp: " + s);
  }
}
