package dev.cmod.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.cmod.compiler.BigStack;
import dev.cmod.compiler.ast.Ast.FileAst;
import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.DiagnosticRenderer;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.Severity;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.syntax.Parsing;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz target for the front end: lexer, limit scan, statement breaks, SLL/LL parse and the AST
 * builder ({@link Parsing#parse}), then rendering of every diagnostic as the CLI does.
 *
 * <p>A finding is an uncaught exception, a StackOverflowError or OutOfMemoryError (the parse runs
 * on a 512 MiB stack like the CLI's compiler thread), a hang (more than 20 s), or a parse that
 * gives up (returns no AST) without reporting an error, which the CLI would turn into a silent exit
 * 1. Syntax errors are expected and fine.
 *
 * <p>Regression mode (plain {@code mvn verify}) runs the committed inputs under {@code
 * src/test/resources/dev/cmod/fuzz/ParserFuzzTestInputs/parse/} (plain .cmod texts); fuzzing mode:
 * {@code JAZZER_FUZZ=1 mvn -o test -pl compiler -Dtest=ParserFuzzTest -Djazzer.max_duration=60s
 * '-Djazzer.instrument=dev.cmod.**'} (so that the generated parser in the grammar jar is
 * instrumented too).
 */
class ParserFuzzTest {

  @FuzzTest(maxDuration = "60s")
  // (no line breaks in entries: Jazzer 0.30 writes them unescaped into the libFuzzer dictionary)
  @DictionaryEntries({
    "import",
    "std.nn.{Linear}",
    "const",
    "module",
    "model",
    "param",
    "let",
    "return",
    "if",
    "then",
    "else",
    "repeat",
    "input",
    "output",
    "where",
    "with",
    "on",
    "from",
    "to",
    "by",
    "route",
    "as",
    "weights",
    "onnx",
    "compute",
    "budget",
    "constraint",
    "align",
    "condition",
    "via",
    "frozen",
    "trainable",
    "vocab",
    "true",
    "false",
    "none",
    "|>",
    "->",
    "...",
    "<=",
    ">=",
    "==",
    "!=",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ";",
    "/*",
    "*/",
    "//",
    "\"",
    "1e-5",
    "40M",
    "1_000",
    "f32[",
    "Image[3, 32, 32]",
    "Text[seq] vocab 100",
    "init.xavier",
    "_"
  })
  void parse(byte[] data) throws Exception {
    String text = new String(data, StandardCharsets.UTF_8);
    BigStack.run(() -> check(text));
  }

  static void check(String text) {
    SourceFile file = new SourceFile("fuzz.cmod", text);
    Diagnostics diags = new Diagnostics();
    FileAst ast = Parsing.parse(file, diags);
    if (ast == null) {
      assertTrue(diags.hasErrors(), "the parser returned no AST but reported no error");
    }
    for (Diagnostic d : diags.all()) {
      Span s = d.span();
      if (s != null) {
        assertTrue(
            s.start() >= 0 && s.start() <= s.end() && s.end() <= text.length() + 1,
            "diagnostic span ["
                + s.start()
                + ", "
                + s.end()
                + ") outside a text of "
                + text.length()
                + " chars: "
                + d);
      }
      DiagnosticRenderer.human(d);
      if (d.severity() == Severity.ERROR && d.message() == null) {
        throw new AssertionError("error without a message: " + d.code());
      }
    }
    DiagnosticRenderer.json(diags.all());
  }
}
