import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * Compiles each listed .cmod file at each listed level with the compiler on the class path (in one
 * JVM, through {@code dev.cmod.cli.Main.execute}) and prints one line per compilation: the file, the
 * level, the exit code, and a SHA-256 of the artifact (or of the diagnostics when there is none).
 * Run by scripts/same-bytes.sh once with an old build and once with the new one; the two listings
 * are then compared line by line.
 *
 * <p>Usage: {@code java -cp JARS scripts/SameBytes.java LIST OUTDIR}, LIST holding one path per line.
 */
public class SameBytes {
  public static void main(String[] args) throws Exception {
    List<String> files = Files.readAllLines(Path.of(args[0]));
    Path dir = Files.createDirectories(Path.of(args[1]));
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream realOut = System.out;
    PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8);
    System.setOut(capture);
    System.setErr(capture);
    Method execute = Class.forName("dev.cmod.cli.Main").getMethod("execute", String[].class);
    for (String f : files) {
      for (String level : new String[] {"-O0", "-O2"}) {
        Path out = dir.resolve("a.onnx");
        Files.deleteIfExists(out);
        buf.reset();
        int rc = (int) execute.invoke(null, (Object) new String[] {"compile", f, level, "-o", out.toString()});
        byte[] bytes = Files.exists(out) ? Files.readAllBytes(out) : buf.toByteArray();
        String what = Files.exists(out) ? "onnx" : "diagnostics";
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        realOut.println(f + " " + level + " exit=" + rc + " " + what + "=" + sha.substring(0, 16));
        if (!Files.exists(out)) {
          Files.write(dir.resolve(f.replace('/', '_') + level + ".txt"), bytes);
        }
      }
    }
  }
}
