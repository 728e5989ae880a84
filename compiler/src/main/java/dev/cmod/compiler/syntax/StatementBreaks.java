package dev.cmod.compiler.syntax;

import dev.cmod.grammar.CmodLexer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.antlr.v4.runtime.Token;

/**
 * Decides which line breaks end a statement (in the spirit of Go's semicolon insertion). A line
 * break is dropped when it sits inside ( ) or [ ], when the line ends with a token that needs
 * more (an operator, a comma, {@code then}, ...), or when the next line starts with a token that
 * continues an expression ({@code |>}, a binary operator, {@code .}, {@code then}, {@code else},
 * {@code {} ...). Every other line break reaches the parser as one NL token.
 */
public final class StatementBreaks {
  private static final Set<Integer> NEEDS_MORE =
      Set.of(
          CmodLexer.PIPE,
          CmodLexer.ARROW,
          CmodLexer.PLUS,
          CmodLexer.MINUS,
          CmodLexer.STAR,
          CmodLexer.SLASH,
          CmodLexer.PERCENT,
          CmodLexer.AT,
          CmodLexer.LT,
          CmodLexer.LE,
          CmodLexer.GT,
          CmodLexer.GE,
          CmodLexer.EQEQ,
          CmodLexer.NEQ,
          CmodLexer.ASSIGN,
          CmodLexer.COMMA,
          CmodLexer.COLON,
          CmodLexer.DOT,
          CmodLexer.LPAREN,
          CmodLexer.LBRACK,
          CmodLexer.IF,
          CmodLexer.THEN,
          CmodLexer.ELSE,
          CmodLexer.WITH,
          CmodLexer.TO,
          CmodLexer.BY,
          CmodLexer.IMPORT,
          CmodLexer.LET,
          CmodLexer.PARAM,
          CmodLexer.CONST,
          CmodLexer.RETURN,
          CmodLexer.REPEAT,
          CmodLexer.ROUTE,
          CmodLexer.VOCAB,
          CmodLexer.NL);
  private static final Set<Integer> CONTINUES =
      Set.of(
          CmodLexer.PIPE,
          CmodLexer.ARROW,
          CmodLexer.PLUS,
          CmodLexer.MINUS,
          CmodLexer.STAR,
          CmodLexer.SLASH,
          CmodLexer.PERCENT,
          CmodLexer.AT,
          CmodLexer.LT,
          CmodLexer.LE,
          CmodLexer.GT,
          CmodLexer.GE,
          CmodLexer.EQEQ,
          CmodLexer.NEQ,
          CmodLexer.ASSIGN,
          CmodLexer.DOT,
          CmodLexer.THEN,
          CmodLexer.ELSE,
          CmodLexer.LBRACE,
          CmodLexer.WITH,
          CmodLexer.TO,
          CmodLexer.BY,
          CmodLexer.COMMA,
          CmodLexer.VOCAB);

  private StatementBreaks() {}

  /** Filters the lexer's tokens (all channels) into what the parser should see. */
  public static List<Token> filter(List<? extends Token> tokens) {
    List<Token> out = new ArrayList<>(tokens.size());
    List<Integer> brackets = new ArrayList<>();
    int prev = -1; // type of the last default-channel, non-NL token passed on
    for (int i = 0; i < tokens.size(); i++) {
      Token t = tokens.get(i);
      int type = t.getType();
      if (t.getChannel() != Token.DEFAULT_CHANNEL) {
        out.add(t);
        continue;
      }
      if (type == CmodLexer.NL) {
        boolean inParens =
            !brackets.isEmpty() && brackets.get(brackets.size() - 1) != CmodLexer.LBRACE;
        int next = nextSignificant(tokens, i + 1);
        int nextType = next < 0 ? Token.EOF : tokens.get(next).getType();
        boolean keep =
            !inParens
                && prev != -1
                && !NEEDS_MORE.contains(prev)
                && !CONTINUES.contains(nextType)
                && nextType != Token.EOF
                && !(nextType == CmodLexer.WHERE
                    && followedBy(tokens, next, CmodLexer.LPAREN) == false);
        if (keep && !(out.size() > 0 && lastDefault(out) == CmodLexer.NL)) {
          out.add(t);
          prev = CmodLexer.NL;
        }
        continue;
      }
      switch (type) {
        case CmodLexer.LPAREN, CmodLexer.LBRACK, CmodLexer.LBRACE -> brackets.add(type);
        case CmodLexer.RPAREN, CmodLexer.RBRACK, CmodLexer.RBRACE -> {
          if (!brackets.isEmpty()) {
            brackets.remove(brackets.size() - 1);
          }
        }
        default -> {}
      }
      out.add(t);
      if (type != Token.EOF) {
        prev = type;
      }
    }
    return out;
  }

  private static int lastDefault(List<Token> out) {
    for (int i = out.size() - 1; i >= 0; i--) {
      if (out.get(i).getChannel() == Token.DEFAULT_CHANNEL) {
        return out.get(i).getType();
      }
    }
    return -1;
  }

  private static int nextSignificant(List<? extends Token> tokens, int from) {
    for (int i = from; i < tokens.size(); i++) {
      Token t = tokens.get(i);
      if (t.getChannel() == Token.DEFAULT_CHANNEL && t.getType() != CmodLexer.NL) {
        return i;
      }
    }
    return -1;
  }

  private static boolean followedBy(List<? extends Token> tokens, int at, int type) {
    int n = nextSignificant(tokens, at + 1);
    return n >= 0 && tokens.get(n).getType() == type;
  }
}
