package dev.cmod.onnx.emit;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * A symbolic dim as an expression tree, parsed from the canonical text of {@link
 * dev.cmod.ir.type.Dim} ({@code "batch*seq"}, {@code "seq+16"}, {@code "2*h*w"}, {@code
 * "(seq/16)"}, {@code "-3*n+1"}). Grammar:
 *
 * <pre>
 *   sum    = ["-"] term (("+" | "-") term)*
 *   term   = factor ("*" factor)*
 *   factor = integer | symbol | "(" sum "/" sum ")"
 * </pre>
 *
 * Division is floor division (dims are non-negative, so ONNX integer Div agrees).
 */
sealed interface DimExpr {

  /** An integer constant. */
  record Const(long value) implements DimExpr {}

  /** A named symbol, bound at runtime to an input's axis. */
  record Sym(String name) implements DimExpr {}

  /** A sum of terms; {@code negate.get(i)} marks a subtracted term. */
  record Sum(List<DimExpr> terms, List<Boolean> negate) implements DimExpr {}

  /** A product of factors. */
  record Product(List<DimExpr> factors) implements DimExpr {}

  /** Floor division {@code num / den}. */
  record FloorDiv(DimExpr num, DimExpr den) implements DimExpr {}

  /** Parses the canonical rendering of a (non-unknown) Dim. */
  static DimExpr parse(String text) {
    Parser p = new Parser(text);
    DimExpr e = p.sum();
    if (p.pos != text.length()) {
      throw p.error("unexpected '" + text.charAt(p.pos) + "'");
    }
    return e;
  }

  /** Evaluates the expression in Java (used to check the parser against Dim.eval). */
  default long eval(ToLongFunction<String> symbols) {
    if (this instanceof Const c) {
      return c.value();
    } else if (this instanceof Sym s) {
      return symbols.applyAsLong(s.name());
    } else if (this instanceof Sum s) {
      long acc = 0;
      for (int i = 0; i < s.terms().size(); i++) {
        long v = s.terms().get(i).eval(symbols);
        acc = s.negate().get(i) ? acc - v : acc + v;
      }
      return acc;
    } else if (this instanceof Product p) {
      long acc = 1;
      for (DimExpr f : p.factors()) {
        acc *= f.eval(symbols);
      }
      return acc;
    } else {
      FloorDiv d = (FloorDiv) this;
      return Math.floorDiv(d.num().eval(symbols), d.den().eval(symbols));
    }
  }

  /** Recursive-descent parser over the rendering. */
  final class Parser {
    private final String text;
    private int pos;

    Parser(String text) {
      this.text = text;
    }

    IllegalArgumentException error(String why) {
      return new IllegalArgumentException("cannot parse dim '" + text + "' at " + pos + ": " + why);
    }

    private boolean eat(char c) {
      if (pos < text.length() && text.charAt(pos) == c) {
        pos++;
        return true;
      }
      return false;
    }

    DimExpr sum() {
      List<DimExpr> terms = new ArrayList<>();
      List<Boolean> neg = new ArrayList<>();
      neg.add(eat('-'));
      terms.add(term());
      while (pos < text.length()) {
        char c = text.charAt(pos);
        if (c != '+' && c != '-') {
          break;
        }
        pos++;
        neg.add(c == '-');
        terms.add(term());
      }
      if (terms.size() == 1 && !neg.get(0)) {
        return terms.get(0);
      }
      return new Sum(List.copyOf(terms), List.copyOf(neg));
    }

    private DimExpr term() {
      List<DimExpr> fs = new ArrayList<>();
      fs.add(factor());
      while (eat('*')) {
        fs.add(factor());
      }
      return fs.size() == 1 ? fs.get(0) : new Product(List.copyOf(fs));
    }

    private DimExpr factor() {
      if (pos >= text.length()) {
        throw error("unexpected end");
      }
      char c = text.charAt(pos);
      if (eat('(')) {
        DimExpr num = sum();
        if (!eat('/')) {
          throw error("expected '/'");
        }
        DimExpr den = sum();
        if (!eat(')')) {
          throw error("expected ')'");
        }
        return new FloorDiv(num, den);
      }
      int start = pos;
      if (Character.isDigit(c)) {
        while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
          pos++;
        }
        return new Const(Long.parseLong(text.substring(start, pos)));
      }
      if (Character.isLetter(c) || c == '_') {
        while (pos < text.length() && isSymbolChar(text.charAt(pos))) {
          pos++;
        }
        String name = text.substring(start, pos);
        if (name.equals("_")) {
          throw error("the unknown dim '_' has no value");
        }
        return new Sym(name);
      }
      throw error("unexpected '" + c + "'");
    }

    private static boolean isSymbolChar(char c) {
      return Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '$';
    }
  }
}
