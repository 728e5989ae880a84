package dev.cmod.compiler.pass;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Verifier;
import dev.cmod.ir.print.TextParser;
import dev.cmod.ir.print.TextPrinter;
import dev.cmod.ir.rewrite.RewriteDriver;
import dev.cmod.ir.rewrite.Rule;
import dev.cmod.ir.rewrite.RuleSet;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every rule of every catalogue against its before/after IR files in {@code rules/}: the rule
 * alone, to a fixpoint, then dead-code elimination, must give the after graph (its text, and the
 * values of its constants and parameters). A rule without files fails, so the catalogue cannot
 * outgrow its tests.
 */
class RuleGoldenTest {
  static Stream<Rule> rules() {
    List<Rule> all = new ArrayList<>();
    for (Class<?> c : List.of(AlgebraicRules.class, FoldingRules.class)) {
      for (Field f : c.getFields()) {
        if (Modifier.isStatic(f.getModifiers()) && f.getType() == Rule.class) {
          try {
            all.add((Rule) f.get(null));
          } catch (IllegalAccessException e) {
            throw new AssertionError(e);
          }
        }
      }
    }
    return all.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rules")
  void ruleTurnsBeforeIntoAfter(Rule rule) throws IOException {
    Graph g = TextParser.parse("before", read(rule.name() + ".before.ir"));
    RewriteDriver.Result r = RewriteDriver.apply(g, RuleSet.of("one", rule), 8, null);
    assertTrue(r.counts().get(rule.name()) > 0, rule + " did not fire on its before file");
    assertTrue(!r.capped(), rule + " did not reach a fixpoint");
    Pipeline.DCE.run(g, PassContext.NONE);
    assertEquals(List.of(), Verifier.verify(g));
    Graph want = TextParser.parse("after", read(rule.name() + ".after.ir"));
    assertEquals(canonical(want), canonical(g), rule.name());
    List<Node> a = want.nodes();
    List<Node> b = g.nodes();
    for (int i = 0; i < a.size(); i++) {
      Op op = a.get(i).op();
      if (op == Op.PARAM || op == Op.CONST) {
        assertArrayEquals(
            a.get(i).attrs().getTensor("value").doubles(),
            b.get(i).attrs().getTensor("value").doubles(),
            1e-6,
            rule.name() + ": value of " + b.get(i));
      }
    }
  }

  /** The text with ids renumbered by position: what two equal graphs share. */
  static String canonical(Graph g) {
    return TextPrinter.print(TextParser.parse("canonical", TextPrinter.print(g)));
  }

  static String read(String name) throws IOException {
    try (InputStream in = RuleGoldenTest.class.getResourceAsStream("/rules/" + name)) {
      assertNotNull(in, "missing test resource rules/" + name);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
