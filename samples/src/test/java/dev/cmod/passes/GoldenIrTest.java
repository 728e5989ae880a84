package dev.cmod.passes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.print.TextParser;
import dev.cmod.ir.print.TextPrinter;
import dev.cmod.testkit.E2E;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The IR text of every model of every sample at -O0 and -O2 against {@code
 * src/test/resources/golden-ir/NAME.O0.ir} and {@code .O2.ir}: a change to the elaborator or a pass
 * shows up as a readable diff. After a deliberate change, regenerate them with {@code
 * -Dcmod.golden.regenerate=true} and review the diff. The same texts are parsed back by the IR text
 * parser, which must reprint them unchanged (ids renumbered by position).
 */
class GoldenIrTest {
  private static final Path DIR = Path.of("src/test/resources/golden-ir");

  static Stream<Path> samples() {
    return Corpus.samples().stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void irTextMatchesTheGoldens(Path sample) throws IOException {
    for (int level : new int[] {0, 2}) {
      String text = text(sample, level);
      String stem = sample.getFileName().toString().replace(".cmod", "");
      Path golden = DIR.resolve(stem + ".O" + level + ".ir");
      if (Boolean.getBoolean("cmod.golden.regenerate")) {
        Files.createDirectories(DIR);
        Files.writeString(golden, text);
      }
      assertTrue(
          Files.exists(golden), "missing " + golden + "; run with -Dcmod.golden.regenerate=true");
      assertEquals(Files.readString(golden), text, sample + " at -O" + level + " vs " + golden);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void printedIrParsesBackToAnEqualGraph(Path sample) {
    for (int level : new int[] {0, 2}) {
      for (Compilation.Result r : Compilation.compileAll(sample, E2E.opts(level))) {
        assertTrue(r.ok(), sample + " does not compile");
        String printed = TextPrinter.print(r.graph());
        Graph back = TextParser.parse(r.model(), printed);
        assertEquals(renumbered(printed), TextPrinter.print(back), sample + " -O" + level);
        assertEquals(r.graph().nodeCount(), back.nodeCount());
        assertEquals(r.graph().outputs().keySet(), back.outputs().keySet());
      }
    }
  }

  /** Every model of the file, each after a {@code // model NAME} line. */
  private static String text(Path sample, int level) {
    StringBuilder sb = new StringBuilder();
    List<Compilation.Result> all = Compilation.compileAll(sample, E2E.opts(level));
    for (Compilation.Result r : all) {
      assertTrue(r.ok(), sample + " does not compile at -O" + level);
      sb.append("// model ").append(r.model()).append('\n').append(TextPrinter.print(r.graph()));
    }
    return sb.toString();
  }

  /**
   * The printed text with each node id replaced by its line position: what the parser's graph
   * prints, since it creates nodes in line order.
   */
  static String renumbered(String printed) {
    java.util.Map<String, String> ids = new java.util.HashMap<>();
    String[] lines = printed.split("\n");
    for (String l : lines) {
      if (l.startsWith("%")) {
        ids.put(l.substring(0, l.indexOf(' ')), "%" + ids.size());
      }
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("%\\d+").matcher(printed);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(sb, java.util.regex.Matcher.quoteReplacement(ids.get(m.group())));
    }
    m.appendTail(sb);
    return sb.toString();
  }
}
