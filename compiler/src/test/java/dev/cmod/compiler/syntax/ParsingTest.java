package dev.cmod.compiler.syntax;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.DiagnosticRenderer;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.grammar.CmodLexer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.Token;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Lexer, statement-break and parser behaviour, checked on the AST (no elaboration). */
class ParsingTest {

  // ---------------------------------------------------------------------------------------------
  // helpers

  record Parsed(FileAst ast, Diagnostics diags) {
    String rendered() {
      return diags.all().stream().map(DiagnosticRenderer::human).collect(Collectors.joining());
    }
  }

  static Parsed parse(String text) {
    Diagnostics d = new Diagnostics();
    FileAst ast = Parsing.parse(new SourceFile("t.cmod", text), d);
    return new Parsed(ast, d);
  }

  /** Parses text that must be free of diagnostics. */
  static FileAst ok(String text) {
    Parsed p = parse(text);
    assertTrue(p.diags().all().isEmpty(), () -> "unexpected diagnostics:\n" + p.rendered());
    assertNotNull(p.ast());
    return p.ast();
  }

  static ModuleDecl module(FileAst f, String name) {
    for (Decl d : f.decls()) {
      if (d instanceof ModuleDecl m && m.name().text().equals(name)) {
        return m;
      }
    }
    throw new AssertionError("no module " + name);
  }

  static ModelDecl model(FileAst f) {
    for (Decl d : f.decls()) {
      if (d instanceof ModelDecl m) {
        return m;
      }
    }
    throw new AssertionError("no model");
  }

  /** The module's body statements of a one-module file. */
  static List<Stmt> body(String moduleText) {
    FileAst f = ok(moduleText);
    assertEquals(1, f.decls().size(), "declarations");
    return ((ModuleDecl) f.decls().get(0)).body().stmts();
  }

  static Expr exprOf(Stmt s) {
    if (s instanceof ExprStmt e) {
      return e.expr();
    }
    if (s instanceof LetStmt l) {
      return l.value();
    }
    if (s instanceof ReturnStmt r) {
      return r.value();
    }
    throw new AssertionError("no expression in " + s);
  }

  /** A compact, span-free rendering of an expression, for structural assertions. */
  static String show(Expr e) {
    if (e instanceof IntLit i) {
      return Long.toString(i.value());
    } else if (e instanceof FloatLit f) {
      return Double.toString(f.value());
    } else if (e instanceof StringLit s) {
      return '"' + s.value() + '"';
    } else if (e instanceof BoolLit b) {
      return Boolean.toString(b.value());
    } else if (e instanceof NoneLit) {
      return "none";
    } else if (e instanceof NameRef n) {
      return n.name();
    } else if (e instanceof ListExpr l) {
      return l.items().stream().map(ParsingTest::show).collect(Collectors.joining(", ", "[", "]"));
    } else if (e instanceof Member m) {
      return show(m.target()) + "." + m.member().text();
    } else if (e instanceof TupleIndex t) {
      return show(t.target()) + "." + t.index();
    } else if (e instanceof Call c) {
      List<String> args = new ArrayList<>();
      for (Arg a : c.args()) {
        args.add((a.name() == null ? "" : a.name().text() + "=") + show(a.value()));
      }
      return show(c.callee()) + "(" + String.join(", ", args) + ")";
    } else if (e instanceof Unary u) {
      return "(" + u.op() + show(u.operand()) + ")";
    } else if (e instanceof Binary b) {
      return "(" + show(b.left()) + " " + b.op() + " " + show(b.right()) + ")";
    } else if (e instanceof Pipe p) {
      return "(" + show(p.left()) + " |> " + show(p.right()) + ")";
    } else if (e instanceof If i) {
      return "(if "
          + show(i.cond())
          + " then "
          + show(i.then())
          + " else "
          + show(i.otherwise())
          + ")";
    } else if (e instanceof Repeat r) {
      return "(repeat " + show(r.count()) + " " + show(r.body()) + ")";
    }
    return e.getClass().getSimpleName();
  }

  static List<Token> tokens(String text) {
    CmodLexer lexer = new CmodLexer(CharStreams.fromString(text));
    lexer.removeErrorListeners();
    List<Token> out = new ArrayList<>();
    for (Token t : lexer.getAllTokens()) {
      if (t.getChannel() == Token.DEFAULT_CHANNEL) {
        out.add(t);
      }
    }
    return out;
  }

  static List<String> filtered(String text) {
    CmodLexer lexer = new CmodLexer(CharStreams.fromString(text));
    lexer.removeErrorListeners();
    List<String> out = new ArrayList<>();
    for (Token t : StatementBreaks.filter(lexer.getAllTokens())) {
      if (t.getChannel() == Token.DEFAULT_CHANNEL) {
        out.add(t.getType() == CmodLexer.NL ? "NL" : t.getText());
      }
    }
    return out;
  }

  static long intValue(String literal) {
    List<Stmt> b = body("module M()(x: f32[4]) -> f32[4] {\n  let n = " + literal + "\n  x\n}\n");
    return ((IntLit) exprOf(b.get(0))).value();
  }

  static double floatValue(String literal) {
    List<Stmt> b = body("module M()(x: f32[4]) -> f32[4] {\n  let n = " + literal + "\n  x\n}\n");
    return ((FloatLit) exprOf(b.get(0))).value();
  }

  // ---------------------------------------------------------------------------------------------
  // statement breaks

  @Test
  void pipeContinuedWithLeadingPipeOnNextLine() {
    List<Stmt> b =
        body(
            """
        module M()(x: f32[..., 4]) -> f32[..., 4] {
          let h = x
            |> relu
            |> tanh
          h
            |> sigmoid
        }
        """);
    assertEquals(2, b.size());
    assertEquals("((x |> relu) |> tanh)", show(exprOf(b.get(0))));
    assertEquals("(h |> sigmoid)", show(exprOf(b.get(1))));
  }

  @Test
  void pipeAtEndOfLineContinuesOnNextLine() {
    List<Stmt> b =
        body(
            """
        module M()(x: f32[..., 4]) -> f32[..., 4] {
          x |>
            relu |>   // a comment after the operator
            tanh
        }
        """);
    assertEquals(1, b.size());
    assertEquals("((x |> relu) |> tanh)", show(exprOf(b.get(0))));
  }

  @Test
  void binaryOperatorsContinueAcrossLines() {
    List<Stmt> b =
        body(
            """
        module M()(x: f32[..., 4]) -> f32[..., 4] {
          let a = x
            + 1.0
          let c = x *
            2.0
          a - c
        }
        """);
    assertEquals(3, b.size());
    assertEquals("(x + 1.0)", show(exprOf(b.get(0))));
    assertEquals("(x * 2.0)", show(exprOf(b.get(1))));
  }

  @Test
  void ifThenElseOnSeparateLines() {
    List<Stmt> b =
        body(
            """
        module M(flag: bool)(x: f32[..., 4]) -> f32[..., 4] {
          let a = if flag
            then relu(x)
            else tanh(x)
          let c = if flag then
            x
          else
            -x
          if flag then a
          else c
        }
        """);
    assertEquals(3, b.size());
    assertEquals("(if flag then relu(x) else tanh(x))", show(exprOf(b.get(0))));
    assertEquals("(if flag then x else (-x))", show(exprOf(b.get(1))));
    assertEquals("(if flag then a else c)", show(exprOf(b.get(2))));
  }

  @Test
  void moduleSignatureWithBraceOnNextLine() {
    FileAst f =
        ok(
            """
        module Linear(inp: int, out: int)(x: f32[..., inp]) -> f32[..., out]
        {
          param weight: f32[inp, out] = init.xavier
          x @ weight
        }

        model M
        {
          input x: f32[4]
          output y: f32[8] = x |> Linear(4, 8)
        }
        """);
    ModuleDecl m = module(f, "Linear");
    assertEquals(2, m.hyper().size());
    assertEquals(1, m.args().size());
    assertTrue(m.hasHyperList());
    assertEquals(2, m.body().stmts().size());
    assertEquals(2, model(f).items().size());
  }

  @Test
  void moduleSignatureSplitOverLines() {
    FileAst f =
        ok(
            """
        module Block(
          dim: int,
          hidden: int = 4 * dim,
        )(
          x: f32[..., dim],
        ) -> f32[..., dim] {
          x
        }
        """);
    ModuleDecl m = module(f, "Block");
    assertEquals(List.of("dim", "hidden"), m.hyper().stream().map(p -> p.name().text()).toList());
    assertEquals("(4 * dim)", show(m.hyper().get(1).dflt()));
  }

  @Test
  void whereCallAtStartOfLineIsAStatement() {
    List<Stmt> b =
        body(
            """
        module Clip()(x: f32[..., d]) -> f32[..., d] {
          let z = x * 0.0
          where(x > 0.0, x, z)
        }
        """);
    assertEquals(2, b.size());
    assertInstanceOf(ExprStmt.class, b.get(1));
    assertEquals("where((x > 0.0), x, z)", show(exprOf(b.get(1))));
  }

  @Test
  void whereClauseOnNextLineContinuesAnInput() {
    FileAst f =
        ok(
            """
        model M {
          input tokens: Text[seq] vocab 100
            where seq <= 64
          output y: i64[seq] = tokens
        }
        """);
    List<ModelItem> items = model(f).items();
    assertEquals(2, items.size());
    InputItem in = (InputItem) items.get(0);
    assertEquals(1, in.where().size());
    assertEquals("(seq <= 64)", show(in.where().get(0)));
  }

  @Test
  void semicolonsSeparateStatementsOnOneLine() {
    List<Stmt> b =
        body("module M()(x: f32[4]) -> f32[4] { let a = relu(x); let c = a + 1.0; c }\n");
    assertEquals(3, b.size());
  }

  @Test
  void lineBreaksInsideBracketsAreIgnored() {
    List<Stmt> b =
        body(
            """
        module M()(x: f32[..., 4]) -> f32[..., 4] {
          let parts = [
            x,
            relu(
              x
            ),
          ]
          concat(parts,
                 -1)
        }
        """);
    assertEquals(2, b.size());
    assertEquals("[x, relu(x)]", show(exprOf(b.get(0))));
    assertEquals("concat(parts, (-1))", show(exprOf(b.get(1))));
  }

  @Test
  void blankLinesAndCommentLinesCollapseToOneBreak() {
    List<String> toks = filtered("let a = 1\n\n\n// c\n\n/* d */\nlet b = 2\n");
    assertEquals(List.of("let", "a", "=", "1", "NL", "let", "b", "=", "2"), toks);
  }

  @Test
  void aLineStartingWithMinusContinuesTheExpression() {
    // documented behaviour of StatementBreaks: a leading binary operator continues the previous
    // line
    List<Stmt> b =
        body(
            """
        module M()(x: f32[..., 4]) -> f32[..., 4] {
          let a = x
            - 1.0
          a
        }
        """);
    assertEquals(2, b.size());
    assertEquals("(x - 1.0)", show(exprOf(b.get(0))));
  }

  // ---------------------------------------------------------------------------------------------
  // comments

  @Test
  void commentsEverywhere() {
    FileAst f =
        ok(
            """
        // leading comment
        /* block
           comment */
        module M()(x: f32[..., 4]) -> f32[..., 4] { // after the brace
          let a = relu(/* inline */ x) // trailing
          /* a block comment on its own line */
          a /* before the end */
        }
        // trailing comment without a newline at the end""");
    assertEquals(2, module(f, "M").body().stmts().size());
  }

  @Test
  void blockCommentSpanningLinesInsideAnExpression() {
    List<Stmt> b =
        body(
            """
        module M()(x: f32[..., 4]) -> f32[..., 4] {
          let a = x + /* one
            two */ 1.0
          a
        }
        """);
    assertEquals(2, b.size());
    assertEquals("(x + 1.0)", show(exprOf(b.get(0))));
  }

  @Test
  void commentMarkersInsideStringsAreText() {
    FileAst f = ok("import \"./a//b/*c*/.cmod\"\n");
    ImportDecl i = (ImportDecl) f.decls().get(0);
    assertEquals("./a//b/*c*/.cmod", i.file());
  }

  @Test
  void blockCommentsDoNotNest() {
    // "/* a /* b */" is one comment; the following "*/" is then two operators and a syntax error
    Parsed p = parse("/* a /* b */ */\nmodel M { input x: f32[4]\n output y: f32[4] = x }\n");
    assertTrue(p.diags().hasErrors());
    assertEquals(DiagnosticCode.SYNTAX, p.diags().all().get(0).code());
  }

  @Test
  void unterminatedBlockCommentIsReportedAtItsStart() {
    Parsed p = parse("model M {}\n  /* open\n\n");
    Diagnostic d = p.diags().all().get(0);
    assertEquals(DiagnosticCode.UNTERMINATED, d.code());
    assertEquals(2, d.span().line());
    assertEquals(3, d.span().column());
  }

  // ---------------------------------------------------------------------------------------------
  // literals

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource({
    "0, 0",
    "7, 7",
    "1_000, 1000",
    "512K, 512000",
    "40M, 40000000",
    "3G, 3000000000",
    "2T, 2000000000000",
    "1_5M, 15000000",
    "9223372036854775807, 9223372036854775807",
  })
  void integerLiteralsWithSuffixes(String literal, long value) {
    assertEquals(value, intValue(literal));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource({
    "1e-5, 1e-5",
    "1E3, 1000",
    "2.5, 2.5",
    "1.5e+2, 150",
    "0.02, 0.02",
    "3e0, 3",
    "1_0.5, 10.5",
  })
  void floatLiterals(String literal, double value) {
    assertEquals(value, floatValue(literal), 0.0);
  }

  @Test
  void budgetWithSuffixedLimits() {
    FileAst f =
        ok(
            """
        model M {
          budget { params <= 40M, flops <= 3G, tokens < 1024 }
          input x: f32[4]
          output y: f32[4] = x
        }
        """);
    BudgetItem b = (BudgetItem) model(f).items().get(0);
    assertEquals(3, b.entries().size());
    assertEquals(40_000_000L, ((IntLit) b.entries().get(0).limit()).value());
    assertEquals(3_000_000_000L, ((IntLit) b.entries().get(1).limit()).value());
    assertFalse(b.entries().get(0).strict());
    assertTrue(b.entries().get(2).strict());
  }

  @ParameterizedTest
  @ValueSource(strings = {"99999999999999999999", "10000000000T", "9223372036854775808"})
  void integerOverflowIsABadLiteral(String literal) {
    Parsed p = parse("const N = " + literal + "\n");
    assertEquals(1, p.diags().all().size(), p::rendered);
    assertEquals(DiagnosticCode.BAD_LITERAL, p.diags().all().get(0).code());
    assertEquals(11, p.diags().all().get(0).span().column());
  }

  @Test
  void stringEscapes() {
    FileAst f = ok("const S = \"a\\tb\\\"c\\\\d\\n\"\n");
    ConstDecl c = (ConstDecl) f.decls().get(0);
    assertEquals("a\tb\"c\\d\n", ((StringLit) c.value()).value());
  }

  @Test
  void suffixLetterIsNotAnIdentifierStart() {
    // "40M" is one INT token, "40 M" is two tokens
    assertEquals(1, tokens("40M").size());
    assertEquals(CmodLexer.INT, tokens("40M").get(0).getType());
    assertEquals(2, tokens("40 M").size());
    assertEquals(CmodLexer.FLOAT, tokens("1e-5").get(0).getType());
    assertEquals(1, tokens("1e-5").size());
  }

  // ---------------------------------------------------------------------------------------------
  // soft keywords

  @ParameterizedTest
  @ValueSource(
      strings = {
        "on",
        "from",
        "to",
        "by",
        "as",
        "weights",
        "onnx",
        "compute",
        "budget",
        "align",
        "condition",
        "via",
        "vocab",
        "input",
        "output",
        "constraint",
        "where"
      })
  void softKeywordsAreUsableAsNames(String kw) {
    List<Stmt> b =
        body(
            "module M()(x: f32[..., 4]) -> f32[..., 4] {\n  let "
                + kw
                + " = relu(x)\n  let z = "
                + kw
                + " + 1.0\n  z |> "
                + kw
                + "\n}\n");
    assertEquals(3, b.size());
    assertEquals(kw, ((LetStmt) b.get(0)).name().text());
    assertEquals("(" + kw + " + 1.0)", show(exprOf(b.get(1))));
    assertEquals("(z |> " + kw + ")", show(exprOf(b.get(2))));
  }

  /**
   * A soft keyword may also start a statement, except the ones that continue the previous line
   * ({@code to}, {@code by}, {@code vocab}, and {@code where} not followed by {@code (}): see
   * StatementBreaks.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "on",
        "from",
        "as",
        "weights",
        "onnx",
        "compute",
        "budget",
        "align",
        "condition",
        "via",
        "input",
        "output",
        "constraint"
      })
  void softKeywordsCanStartAStatement(String kw) {
    List<Stmt> b =
        body(
            "module M()(x: f32[..., 4]) -> f32[..., 4] {\n  let "
                + kw
                + " = relu(x)\n  "
                + kw
                + " + 1.0\n}\n");
    assertEquals(2, b.size());
    assertEquals("(" + kw + " + 1.0)", show(exprOf(b.get(1))));
  }

  @Test
  void letOnInAModel() {
    FileAst f =
        ok(
            """
        model M {
          input x: f32[4]
          let on = relu(x)
          let from = on * 2.0
          output y: f32[4] = from
        }
        """);
    assertEquals(4, model(f).items().size());
  }

  @Test
  void softKeywordsAsParameterAndArgumentNames() {
    FileAst f =
        ok(
            """
        module Gate(on: bool = true)(input: f32[..., 4], from: f32[..., 4]) -> f32[..., 4] {
          if on then input + from else input
        }
        model M {
          input a: f32[4]
          output y: f32[4] = Gate(on = false)(a, a)
        }
        """);
    ModuleDecl g = module(f, "Gate");
    assertEquals("on", g.hyper().get(0).name().text());
    assertEquals(List.of("input", "from"), g.args().stream().map(p -> p.name().text()).toList());
  }

  @Test
  void hardKeywordsAreNotNames() {
    for (String kw :
        List.of(
            "let", "param", "module", "model", "if", "then", "else", "repeat", "import",
            "return")) {
      Parsed p = parse("module M()(x: f32[4]) -> f32[4] {\n  let " + kw + " = x\n  x\n}\n");
      assertTrue(p.diags().hasErrors(), "'let " + kw + " = x' must be a syntax error");
      assertEquals(DiagnosticCode.SYNTAX, p.diags().all().get(0).code(), kw);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // other constructs

  @Test
  void precedence() {
    List<Stmt> b =
        body(
            """
        module M()(x: f32[..., 4], w: f32[4, 4]) -> f32[..., 4] {
          let a = x + x @ w * 2.0
          let c = -x @ w
          let e = x |> relu + 1.0
          let g = x + 1.0 < x * 2.0
          a
        }
        """);
    assertEquals("(x + ((x @ w) * 2.0))", show(exprOf(b.get(0))));
    assertEquals(
        "((-x) @ w)",
        show(exprOf(b.get(1))),
        "unary minus binds tighter than the binary operators");
    assertEquals("(x |> (relu + 1.0))", show(exprOf(b.get(2))), "|> has the lowest precedence");
    assertEquals("((x + 1.0) < (x * 2.0))", show(exprOf(b.get(3))));
  }

  @Test
  void repeatAndTupleIndex() {
    List<Stmt> b =
        body(
            """
        module M()(x: f32[..., 4]) -> f32[..., 4] {
          let blocks = repeat(2) Block(4)
          let parts = split(x, [2, 2])
          parts.0 + parts.1
        }
        """);
    assertEquals("(repeat 2 Block(4))", show(exprOf(b.get(0))));
    assertEquals("(parts.0 + parts.1)", show(exprOf(b.get(2))));
  }

  @Test
  void importForms() {
    FileAst f =
        ok(
            """
        import std.nn.{Linear, Mlp,}
        import std.nn.LayerNorm
        import "./blocks.cmod"
        """);
    ImportDecl a = (ImportDecl) f.decls().get(0);
    assertEquals(ImportKind.STD, a.kind());
    assertEquals(List.of("std", "nn"), a.path().stream().map(Name::text).toList());
    assertEquals(List.of("Linear", "Mlp"), a.names().stream().map(Name::text).toList());
    ImportDecl b = (ImportDecl) f.decls().get(1);
    assertEquals(List.of("std", "nn"), b.path().stream().map(Name::text).toList());
    assertEquals(List.of("LayerNorm"), b.names().stream().map(Name::text).toList());
    ImportDecl c = (ImportDecl) f.decls().get(2);
    assertEquals(ImportKind.FILE, c.kind());
    assertEquals("./blocks.cmod", c.file());
  }

  @Test
  void spansPointAtTheSource() {
    FileAst f = ok("module M()(x: f32[4]) -> f32[4] {\n  let abc = relu(x)\n  abc\n}\n");
    LetStmt l = (LetStmt) module(f, "M").body().stmts().get(0);
    assertEquals(2, l.name().span().line());
    assertEquals(7, l.name().span().column());
    assertEquals(3, l.name().span().end() - l.name().span().start());
    assertEquals(13, l.value().span().column());
  }

  @Test
  void crlfLineEndings() {
    FileAst f =
        ok("module M()(x: f32[4]) -> f32[4] {\r\n  let a = x\r\n    |> relu\r\n  a\r\n}\r\n");
    assertEquals(2, module(f, "M").body().stmts().size());
  }

  @Test
  void emptyFileParsesToNoDeclarations() {
    assertEquals(0, ok("").decls().size());
    assertEquals(0, ok("\n\n// only a comment\n").decls().size());
  }

  // ---------------------------------------------------------------------------------------------
  // error positions

  @Test
  void badCharacterIsReportedWithItsPosition() {
    Parsed p = parse("model M {\n  let a = 1 # 2\n}\n");
    Diagnostic d = p.diags().all().get(0);
    assertEquals(DiagnosticCode.BAD_CHARACTER, d.code());
    assertEquals(2, d.span().line());
    assertEquals(13, d.span().column());
  }

  @Test
  void controlCharacterIsPrintedAsCodePoint() {
    Parsed p = parse("model M {\n  let a = 1 \u0007 2\n}\n");
    Diagnostic d = p.diags().all().get(0);
    assertEquals(DiagnosticCode.BAD_CHARACTER, d.code());
    assertTrue(d.message().contains("U+0007"), d.message());
  }

  @Test
  void unterminatedStringStopsAtTheEndOfTheLine() {
    Parsed p = parse("const S = \"abc\nconst T = 1\n");
    Diagnostic d = p.diags().all().get(0);
    assertEquals(DiagnosticCode.UNTERMINATED, d.code());
    assertEquals(1, d.span().line());
    assertEquals(11, d.span().column());
  }

  // ---------------------------------------------------------------------------------------------
  // limits: deep nesting must end in a diagnostic, quickly, never in a StackOverflowError

  static String nested(String open, String inner, String close, int n) {
    return open.repeat(n) + inner + close.repeat(n);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"(", "["})
  void twentyThousandNestedBracketsGiveCM0004Quickly(String open) {
    String close = open.equals("(") ? ")" : "]";
    String src =
        "model M {\n  input x: f32[4]\n  output y: f32[4] = "
            + nested(open, "x", close, 20_000)
            + "\n}\n";
    Parsed p = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> parse(src));
    assertNull(p.ast());
    assertEquals(1, p.diags().all().size(), p::rendered);
    Diagnostic d = p.diags().all().get(0);
    assertEquals(DiagnosticCode.SOURCE_LIMIT, d.code());
    assertEquals(3, d.span().line());
    assertEquals(
        21 + Parsing.MAX_NESTING, d.span().column(), "at the first bracket over the limit");
  }

  @Test
  void twentyThousandNestedParenthesesThroughCompilation() {
    String src =
        "model M {\n  input x: f32[4]\n  output y: f32[4] = "
            + nested("(", "x", ")", 20_000)
            + "\n}\n";
    Compilation.Result r =
        assertTimeoutPreemptively(
            Duration.ofSeconds(10),
            () ->
                Compilation.compile(
                    new SourceFile("deep.cmod", src), null, CompileOptions.defaults()));
    assertFalse(r.ok());
    assertEquals(DiagnosticCode.SOURCE_LIMIT, r.diagnostics().all().get(0).code());
  }

  @Test
  void nestingAtTheLimitIsAccepted() {
    int n = Parsing.MAX_NESTING - 2; // the model's { and nothing else
    String src =
        "model M {\n  input x: f32[4]\n  output y: f32[4] = " + nested("(", "x", ")", n) + "\n}\n";
    Parsed p = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> parse(src));
    assertTrue(p.diags().all().isEmpty(), p::rendered);
  }

  @Test
  void twentyThousandUnaryMinusesDoNotOverflowTheStack() {
    String src =
        "model M {\n  input x: f32[4]\n  output y: f32[4] = " + "-".repeat(20_000) + "x\n}\n";
    Compilation.Result r =
        assertTimeoutPreemptively(
            Duration.ofSeconds(20),
            () ->
                assertDoesNotThrow(
                    () ->
                        Compilation.compile(
                            new SourceFile("minus.cmod", src), null, CompileOptions.defaults())));
    assertFalse(r.ok(), "a 20000-deep expression should hit the nesting limit");
    assertEquals(DiagnosticCode.SOURCE_LIMIT, r.diagnostics().all().get(0).code());
  }

  @Test
  void twentyThousandChainedOperatorsDoNotOverflowTheStack() {
    String src =
        "model M {\n  input x: f32[4]\n  output y: f32[4] = x" + " + x".repeat(20_000) + "\n}\n";
    Compilation.Result r =
        assertTimeoutPreemptively(
            Duration.ofSeconds(30),
            () ->
                assertDoesNotThrow(
                    () ->
                        Compilation.compile(
                            new SourceFile("chain.cmod", src), null, CompileOptions.defaults())));
    // either it compiles or it ends in a located diagnostic; it must not throw
    if (!r.ok()) {
      assertTrue(r.diagnostics().hasErrors());
    }
  }

  @Test
  void twentyThousandChainedPipesDoNotOverflowTheStack() {
    String src =
        "model M {\n  input x: f32[4]\n  output y: f32[4] = x"
            + " |> relu".repeat(20_000)
            + "\n}\n";
    Compilation.Result r =
        assertTimeoutPreemptively(
            Duration.ofSeconds(30),
            () ->
                assertDoesNotThrow(
                    () ->
                        Compilation.compile(
                            new SourceFile("pipes.cmod", src), null, CompileOptions.defaults())));
    if (!r.ok()) {
      assertTrue(r.diagnostics().hasErrors());
    }
  }
}
