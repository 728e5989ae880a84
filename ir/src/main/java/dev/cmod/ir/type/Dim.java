package dev.cmod.ir.type;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToLongFunction;

/**
 * One dimension of a tensor shape: a known size, a symbolic size (a polynomial over named symbols
 * such as {@code batch} or {@code seq}, with floor divisions kept as opaque atoms) or unknown
 * ({@code _}). Symbolic dims are kept in a canonical form so that {@code equals} decides whether
 * two dims are the same expression, which is what shape unification needs.
 */
public abstract sealed class Dim permits Dim.Poly, Dim.Unknown {

  public static final Dim UNKNOWN = new Unknown();

  public static Dim of(long value) {
    TreeMap<String, Term> t = new TreeMap<>();
    if (value != 0) {
      t.put("", new Term(value, List.of()));
    }
    return new Poly(t);
  }

  public static Dim sym(String name) {
    Atom a = new Atom(name, null, null);
    TreeMap<String, Term> t = new TreeMap<>();
    Term term = new Term(1, List.of(a));
    t.put(term.key(), term);
    return new Poly(t);
  }

  /** True when the value is a compile-time constant. */
  public abstract boolean isKnown();

  /** The constant value; only valid when {@link #isKnown()}. */
  public abstract long value();

  public abstract boolean isUnknown();

  /**
   * The dim as a .cmod size expression that parses back to an equal dim ({@code toString} is the
   * compact form of messages, where a floor division's numerator is not parenthesized); {@code _}
   * when unknown.
   */
  public String toSource() {
    return this instanceof Poly p ? p.source() : "_";
  }

  /** The names of the symbols this dim depends on, sorted. */
  public abstract Set<String> symbols();

  /** Evaluates the dim given the runtime value of each symbol. */
  public abstract long eval(ToLongFunction<String> symbolValue);

  public Dim plus(Dim o) {
    if (isUnknown() || o.isUnknown()) {
      return UNKNOWN;
    }
    return ((Poly) this).combine((Poly) o, 1);
  }

  public Dim minus(Dim o) {
    if (isUnknown() || o.isUnknown()) {
      return UNKNOWN;
    }
    return ((Poly) this).combine((Poly) o, -1);
  }

  public Dim times(Dim o) {
    if (isUnknown() || o.isUnknown()) {
      return UNKNOWN;
    }
    return ((Poly) this).multiply((Poly) o);
  }

  /** Floor division, exact when it can be simplified symbolically. */
  public Dim div(Dim o) {
    if (isUnknown() || o.isUnknown()) {
      return UNKNOWN;
    }
    return ((Poly) this).divide((Poly) o);
  }

  /** A symbolic atom: a named symbol, or a floor division that does not simplify. */
  record Atom(String name, Poly num, Poly den) implements Comparable<Atom> {
    @Override
    public String toString() {
      return name != null ? name : "(" + num + "/" + den + ")";
    }

    @Override
    public int compareTo(Atom o) {
      return toString().compareTo(o.toString());
    }

    /** As a .cmod expression: a floor division with both sides parenthesized where needed. */
    String source() {
      return name != null ? name : "(" + group(num.source()) + " / " + group(den.source()) + ")";
    }

    private static String group(String e) {
      return e.matches("-?[A-Za-z0-9_]+") ? e : "(" + e + ")";
    }

    long eval(ToLongFunction<String> sv) {
      if (name != null) {
        return sv.applyAsLong(name);
      }
      long d = den.eval(sv);
      if (d == 0) {
        throw new ArithmeticException("division by zero in dim " + this);
      }
      return Math.floorDiv(num.eval(sv), d);
    }

    void collect(Set<String> out) {
      if (name != null) {
        out.add(name);
      } else {
        out.addAll(num.symbols());
        out.addAll(den.symbols());
      }
    }
  }

  /** coeff * product(factors); factors sorted, repeated for powers. */
  record Term(long coeff, List<Atom> factors) {
    String key() {
      StringBuilder sb = new StringBuilder();
      for (Atom a : factors) {
        if (sb.length() > 0) {
          sb.append('*');
        }
        sb.append(a);
      }
      return sb.toString();
    }
  }

  static final class Poly extends Dim {
    private final TreeMap<String, Term> terms;
    private final String text;

    Poly(TreeMap<String, Term> terms) {
      this.terms = terms;
      this.text = render();
    }

    @Override
    public boolean isKnown() {
      return terms.isEmpty() || (terms.size() == 1 && terms.containsKey(""));
    }

    @Override
    public long value() {
      if (!isKnown()) {
        throw new IllegalStateException("dim " + text + " is symbolic");
      }
      Term t = terms.get("");
      return t == null ? 0 : t.coeff();
    }

    @Override
    public boolean isUnknown() {
      return false;
    }

    @Override
    public Set<String> symbols() {
      Set<String> out = new TreeSet<>();
      for (Term t : terms.values()) {
        for (Atom a : t.factors()) {
          a.collect(out);
        }
      }
      return out;
    }

    @Override
    public long eval(ToLongFunction<String> sv) {
      long sum = 0;
      for (Term t : terms.values()) {
        long p = t.coeff();
        for (Atom a : t.factors()) {
          p = Math.multiplyExact(p, a.eval(sv));
        }
        sum = Math.addExact(sum, p);
      }
      return sum;
    }

    Poly combine(Poly o, long sign) {
      TreeMap<String, Term> out = new TreeMap<>(terms);
      for (Term t : o.terms.values()) {
        add(out, new Term(sign * t.coeff(), t.factors()));
      }
      return new Poly(out);
    }

    private static void add(TreeMap<String, Term> out, Term t) {
      String k = t.key();
      Term prev = out.get(k);
      long c = (prev == null ? 0 : prev.coeff()) + t.coeff();
      if (c == 0) {
        out.remove(k);
      } else {
        out.put(k, new Term(c, t.factors()));
      }
    }

    Poly multiply(Poly o) {
      TreeMap<String, Term> out = new TreeMap<>();
      for (Term a : terms.values()) {
        for (Term b : o.terms.values()) {
          List<Atom> f = new ArrayList<>(a.factors());
          f.addAll(b.factors());
          Collections.sort(f);
          add(out, new Term(Math.multiplyExact(a.coeff(), b.coeff()), List.copyOf(f)));
        }
      }
      return new Poly(out);
    }

    Poly divide(Poly o) {
      if (o.terms.isEmpty()) {
        throw new ArithmeticException("division by zero");
      }
      if (equals(o)) {
        return (Poly) of(1);
      }
      if (o.terms.size() == 1) {
        Term d = o.terms.firstEntry().getValue();
        TreeMap<String, Term> out = new TreeMap<>();
        boolean exact = true;
        for (Term t : terms.values()) {
          if (t.coeff() % d.coeff() != 0) {
            exact = false;
            break;
          }
          List<Atom> rest = new ArrayList<>(t.factors());
          for (Atom a : d.factors()) {
            if (!rest.remove(a)) {
              exact = false;
              break;
            }
          }
          if (!exact) {
            break;
          }
          add(out, new Term(t.coeff() / d.coeff(), List.copyOf(rest)));
        }
        if (exact) {
          return new Poly(out);
        }
        if (isKnown() && o.isKnown()) {
          return (Poly) of(Math.floorDiv(value(), o.value()));
        }
      }
      TreeMap<String, Term> out = new TreeMap<>();
      Term t = new Term(1, List.of(new Atom(null, this, o)));
      out.put(t.key(), t);
      return new Poly(out);
    }

    /** As a .cmod expression (cmod's {@code /} on sizes is floor division, as here). */
    String source() {
      return write(true);
    }

    private String render() {
      return write(false);
    }

    /**
     * Symbolic terms first (in key order), the constant last: compact for messages ("seq+16",
     * "2*h*w") or spaced with parenthesized floor divisions for source.
     */
    private String write(boolean source) {
      if (terms.isEmpty()) {
        return "0";
      }
      StringBuilder sb = new StringBuilder();
      List<Map.Entry<String, Term>> es = new ArrayList<>(terms.entrySet());
      es.sort(
          (x, y) ->
              x.getKey().isEmpty() == y.getKey().isEmpty()
                  ? x.getKey().compareTo(y.getKey())
                  : (x.getKey().isEmpty() ? 1 : -1));
      String times = source ? " * " : "*";
      for (Map.Entry<String, Term> e : es) {
        Term t = e.getValue();
        long c = t.coeff();
        if (sb.length() > 0) {
          sb.append(c < 0 ? (source ? " - " : "-") : (source ? " + " : "+"));
          c = Math.abs(c);
        } else if (c < 0) {
          sb.append('-');
          c = -c;
        }
        if (t.factors().isEmpty()) {
          sb.append(c);
          continue;
        }
        List<String> fs = new ArrayList<>();
        if (c != 1) {
          fs.add(Long.toString(c));
        }
        for (Atom f : t.factors()) {
          fs.add(source ? f.source() : f.toString());
        }
        sb.append(String.join(times, fs));
      }
      return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Poly p && p.text.equals(text);
    }

    @Override
    public int hashCode() {
      return text.hashCode();
    }

    @Override
    public String toString() {
      return text;
    }
  }

  static final class Unknown extends Dim {
    @Override
    public boolean isKnown() {
      return false;
    }

    @Override
    public long value() {
      throw new IllegalStateException("unknown dim");
    }

    @Override
    public boolean isUnknown() {
      return true;
    }

    @Override
    public Set<String> symbols() {
      return Set.of();
    }

    @Override
    public long eval(ToLongFunction<String> sv) {
      throw new IllegalStateException("unknown dim has no value");
    }

    @Override
    public String toString() {
      return "_";
    }
  }
}
