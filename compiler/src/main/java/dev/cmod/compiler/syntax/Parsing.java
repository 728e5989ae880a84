package dev.cmod.compiler.syntax;

import dev.cmod.compiler.ast.Ast.FileAst;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.diag.Span;
import dev.cmod.grammar.CmodLexer;
import dev.cmod.grammar.CmodParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.antlr.v4.runtime.BailErrorStrategy;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.DefaultErrorStrategy;
import org.antlr.v4.runtime.ListTokenSource;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.atn.PredictionMode;
import org.antlr.v4.runtime.misc.IntervalSet;
import org.antlr.v4.runtime.misc.ParseCancellationException;

/**
 * Source text to AST: lex, check limits, decide statement breaks, parse (SLL, then LL on failure).
 */
public final class Parsing {
  /** Largest accepted source file, in characters. */
  public static final int MAX_SOURCE_CHARS = 4 * 1024 * 1024;

  /** Deepest accepted nesting of brackets. */
  public static final int MAX_NESTING = 200;

  private static final int MAX_SYNTAX_ERRORS = 20;

  private Parsing() {}

  /**
   * Parses {@code file}; returns null when nothing useful could be built (errors are in {@code
   * diags}).
   */
  public static FileAst parse(SourceFile file, Diagnostics diags) {
    String text = file.text();
    if (text.length() > MAX_SOURCE_CHARS) {
      diags.error(
          DiagnosticCode.SOURCE_LIMIT,
          null,
          file.name() + " has " + text.length() + " characters; the limit is " + MAX_SOURCE_CHARS);
      return null;
    }
    CmodLexer lexer = new CmodLexer(CharStreams.fromString(text, file.name()));
    lexer.removeErrorListeners();
    List<? extends Token> raw = lexer.getAllTokens();
    List<Token> tokens = new ArrayList<>(raw.size() + 1);
    int depth = 0;
    boolean lexicalErrors = false;
    for (Token t : raw) {
      switch (t.getType()) {
        case CmodLexer.ERROR_CHAR -> {
          diags.error(
              DiagnosticCode.BAD_CHARACTER,
              span(file, t),
              "unexpected character " + printable(t.getText()));
          lexicalErrors = true;
          continue;
        }
        case CmodLexer.UNTERMINATED_COMMENT -> {
          diags.error(
              DiagnosticCode.UNTERMINATED,
              new Span(file, t.getStartIndex(), t.getStartIndex() + 2),
              "unterminated block comment",
              "close it with */");
          lexicalErrors = true;
          continue;
        }
        case CmodLexer.UNTERMINATED_STRING -> {
          diags.error(
              DiagnosticCode.UNTERMINATED,
              span(file, t),
              "unterminated string",
              "close it with \" on the same line");
          lexicalErrors = true;
          continue;
        }
        case CmodLexer.LPAREN, CmodLexer.LBRACK, CmodLexer.LBRACE -> {
          if (++depth > MAX_NESTING) {
            diags.error(
                DiagnosticCode.SOURCE_LIMIT,
                span(file, t),
                "brackets nest deeper than " + MAX_NESTING + " levels",
                "name intermediate values with let");
            return null;
          }
        }
        case CmodLexer.RPAREN, CmodLexer.RBRACK, CmodLexer.RBRACE -> depth = Math.max(0, depth - 1);
        default -> {}
      }
      tokens.add(t);
    }
    if (lexicalErrors) {
      return null; // parsing around a removed token would only add follow-on errors
    }
    if (!checkBrackets(tokens, file, diags)) {
      return null;
    }
    List<Token> filtered = StatementBreaks.filter(tokens);
    CmodParser.FileContext tree = parseTree(filtered, file, diags);
    if (tree == null) {
      return null;
    }
    try {
      return new AstBuilder(file, diags).file(tree);
    } catch (AstBuilder.TooDeep e) {
      return null;
    }
  }

  private static CmodParser.FileContext parseTree(
      List<Token> tokens, SourceFile file, Diagnostics diags) {
    CmodParser parser = new CmodParser(new CommonTokenStream(new ListTokenSource(tokens)));
    parser.removeErrorListeners();
    parser.getInterpreter().setPredictionMode(PredictionMode.SLL);
    parser.setErrorHandler(new BailErrorStrategy());
    try {
      return parser.file();
    } catch (ParseCancellationException e) {
      // fall through to the full LL parse with error reporting
    }
    parser = new CmodParser(new CommonTokenStream(new ListTokenSource(tokens)));
    parser.removeErrorListeners();
    parser.getInterpreter().setPredictionMode(PredictionMode.LL);
    parser.setErrorHandler(new DefaultErrorStrategy());
    int before = diags.errorCount();
    Listener listener = new Listener(file, diags);
    parser.addErrorListener(listener);
    CmodParser.FileContext tree = parser.file();
    if (listener.count > MAX_SYNTAX_ERRORS) {
      // the parser recovers and goes on; errors past the first ones are counted, not shown
      diags.countSuppressed(listener.count - MAX_SYNTAX_ERRORS);
    }
    return diags.errorCount() > before ? null : tree;
  }

  /**
   * Reports an unclosed bracket at the bracket itself (ANTLR would report it much later, at
   * whatever follows). A closer with no opener at all is left to the parser, which reports it in
   * place.
   */
  private static boolean checkBrackets(List<Token> tokens, SourceFile file, Diagnostics diags) {
    java.util.ArrayList<Token> open = new java.util.ArrayList<>();
    for (Token t : tokens) {
      int ty = t.getType();
      if (ty == CmodLexer.LPAREN || ty == CmodLexer.LBRACK || ty == CmodLexer.LBRACE) {
        open.add(t);
      } else if (ty == CmodLexer.RPAREN || ty == CmodLexer.RBRACK || ty == CmodLexer.RBRACE) {
        int want =
            ty == CmodLexer.RPAREN
                ? CmodLexer.LPAREN
                : ty == CmodLexer.RBRACK ? CmodLexer.LBRACK : CmodLexer.LBRACE;
        int at = open.size() - 1;
        while (at >= 0 && open.get(at).getType() != want) {
          at--;
        }
        if (at < 0) {
          continue; // a stray closer: the parser reports it where it is
        }
        if (at < open.size() - 1) {
          Token o = open.get(open.size() - 1);
          diags.error(
              DiagnosticCode.SYNTAX,
              span(file, o),
              "unclosed '" + o.getText() + "'",
              "close it with '" + closer(o.getType()) + "'");
          return false;
        }
        open.remove(at);
      }
    }
    if (!open.isEmpty()) {
      Token o = open.get(open.size() - 1);
      diags.error(
          DiagnosticCode.SYNTAX,
          span(file, o),
          "unclosed '" + o.getText() + "'",
          "close it with '" + closer(o.getType()) + "'");
      return false;
    }
    return true;
  }

  private static String closer(int type) {
    return type == CmodLexer.LPAREN ? ")" : type == CmodLexer.LBRACK ? "]" : "}";
  }

  private static Span span(SourceFile file, Token t) {
    int s = Math.max(0, t.getStartIndex());
    return new Span(file, s, Math.max(s, t.getStopIndex() + 1));
  }

  private static String printable(String s) {
    int cp = s.codePointAt(0);
    if (cp < 32 || cp == 127 || Character.isISOControl(cp) || !Character.isDefined(cp)) {
      return String.format("U+%04X", cp);
    }
    return "'" + s + "'";
  }

  /** Turns ANTLR's messages into ours: "unexpected X; expected one of: ...". */
  private static final class Listener extends BaseErrorListener {
    private final SourceFile file;
    private final Diagnostics diags;
    private int count;

    Listener(SourceFile file, Diagnostics diags) {
      this.file = file;
      this.diags = diags;
    }

    @Override
    public void syntaxError(
        Recognizer<?, ?> recognizer,
        Object offending,
        int line,
        int col,
        String msg,
        RecognitionException e) {
      if (++count > MAX_SYNTAX_ERRORS) {
        return;
      }
      Token t = (Token) offending;
      Span sp;
      if (t == null || t.getType() == Token.EOF) {
        int end = file.text().length();
        sp = new Span(file, Math.max(0, end - 1), end);
      } else {
        sp = span(file, t);
      }
      Token pipe = danglingPipe(recognizer, t);
      if (pipe != null) {
        diags.error(
            DiagnosticCode.SYNTAX,
            span(file, pipe),
            "'|>' is missing its right-hand side",
            "pipe into a function, a module instance or a call, e.g. x |> relu");
        return;
      }
      String found = describe(t);
      IntervalSet expected = null;
      Parser p = (Parser) recognizer;
      try {
        expected = e != null ? e.getExpectedTokens() : p.getExpectedTokens();
      } catch (RuntimeException ignore) {
        // expected tokens are a nicety
      }
      String message;
      String help = null;
      if (msg.startsWith("extraneous input")
          || msg.startsWith("mismatched input")
          || msg.startsWith("no viable")
          || msg.startsWith("missing")) {
        message = "unexpected " + found;
        if (expected != null && !expected.isNil()) {
          help = "expected " + expectedList(expected);
        }
      } else {
        message = msg;
      }
      diags.error(DiagnosticCode.SYNTAX, sp, message, help);
    }

    /**
     * The pipe whose right side is missing, when the error sits right after "x |>" (maybe past one
     * soft keyword).
     */
    private static Token danglingPipe(Recognizer<?, ?> recognizer, Token t) {
      if (t == null
          || !(recognizer instanceof Parser p)
          || !(p.getInputStream() instanceof CommonTokenStream ts)) {
        return null;
      }
      int i = t.getTokenIndex();
      Token prev = previous(ts, i);
      if (prev != null && prev.getType() == CmodLexer.PIPE) {
        return prev;
      }
      Token prev2 = prev == null ? null : previous(ts, prev.getTokenIndex());
      if (prev2 != null
          && prev2.getType() == CmodLexer.PIPE
          && SOFT_KEYWORDS.contains(prev.getType())
          && prev.getLine() > prev2.getLine()) {
        return prev2;
      }
      return null;
    }

    private static Token previous(CommonTokenStream ts, int index) {
      for (int k = index - 1; k >= 0; k--) {
        Token x = ts.get(k);
        if (x.getChannel() == Token.DEFAULT_CHANNEL && x.getType() != CmodLexer.NL) {
          return x;
        }
      }
      return null;
    }

    private static String describe(Token t) {
      if (t == null || t.getType() == Token.EOF) {
        return "end of file";
      }
      if (t.getType() == CmodLexer.NL) {
        return "end of line";
      }
      return "'" + t.getText() + "'";
    }

    private static final Set<Integer> SOFT_KEYWORDS =
        Set.of(
            CmodLexer.ON,
            CmodLexer.FROM,
            CmodLexer.TO,
            CmodLexer.BY,
            CmodLexer.AS,
            CmodLexer.WEIGHTS,
            CmodLexer.ONNX,
            CmodLexer.COMPUTE,
            CmodLexer.BUDGET,
            CmodLexer.ALIGN,
            CmodLexer.CONDITION,
            CmodLexer.VIA,
            CmodLexer.VOCAB,
            CmodLexer.INPUT,
            CmodLexer.OUTPUT,
            CmodLexer.CONSTRAINT,
            CmodLexer.WHERE);

    private static String expectedList(IntervalSet set) {
      Set<String> words = new TreeSet<>();
      boolean name = set.contains(CmodLexer.IDENT);
      boolean expression = name && set.contains(CmodLexer.INT) && set.contains(CmodLexer.LPAREN);
      if (expression) {
        return "an expression";
      }
      for (int type : set.toArray()) {
        if (name && SOFT_KEYWORDS.contains(type)) {
          continue; // "a name" covers the words that are keywords only in some places
        }
        words.add(
            switch (type) {
              case Token.EOF -> "end of file";
              case CmodLexer.NL -> "end of line";
              case CmodLexer.IDENT -> "a name";
              case CmodLexer.INT -> "an integer";
              case CmodLexer.FLOAT -> "a number";
              case CmodLexer.STRING -> "a string";
              default -> {
                String d = AstBuilder.tokenName(type);
                yield d.startsWith("'")
                    ? d.replace('\'', '`')
                    : d.toLowerCase(java.util.Locale.ROOT);
              }
            });
      }
      if (words.size() > 8) {
        List<String> few = new ArrayList<>(words).subList(0, 8);
        return "one of " + String.join(", ", few) + ", ...";
      }
      return words.size() == 1 ? words.iterator().next() : "one of " + String.join(", ", words);
    }
  }
}
