package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * ONNX's Einsum as IR operators, so that the contractions of an imported model are matmuls the
 * passes see: a diagonal (a repeated index) is selected and summed out, an index that only one
 * operand has and the result lacks is summed, and the operands are contracted left to right, each
 * pair as one batched matmul between transposes and reshapes (an elementwise product where nothing
 * is contracted); the result is transposed into the equation's order. Broadcasting of size-1 axes
 * between operands is not raised.
 */
final class Einsum {
  /** The letters standing for the axes an ellipsis covers (outside the equation's alphabet). */
  private static final char ELLIPSIS_BASE = '\u0100';

  private final ImportContext cx;
  private final Map<Character, Dim> sizes = new HashMap<>();

  private Einsum(ImportContext cx) {
    this.cx = cx;
  }

  /** An operand: its value and the index letter of each of its axes. */
  private record Term(Value v, List<Character> idx) {}

  static void apply(ImportContext cx) {
    new Einsum(cx).run();
  }

  private void run() {
    String eq = cx.attrString("equation", "").replace(" ", "");
    int arrow = eq.indexOf("->");
    String lhs = arrow < 0 ? eq : eq.substring(0, arrow);
    String[] specs = lhs.split(",", -1);
    int n = cx.node().getInputCount();
    if (specs.length != n) {
      throw new ImportException(
          "ONNX operator "
              + cx.describe()
              + ": equation '"
              + eq
              + "' does not have "
              + n
              + " inputs");
    }
    List<Term> terms = new ArrayList<>();
    int ellipsis = 0;
    for (int i = 0; i < n; i++) {
      Value v = cx.val(cx.need(i));
      if (!v.type().dtype().isFloat()) {
        throw cx.unsupportedHere("a " + v.type().dtype() + " operand");
      }
      List<Character> idx = letters(specs[i], v.type().rank());
      ellipsis = Math.max(ellipsis, (int) idx.stream().filter(c -> c >= ELLIPSIS_BASE).count());
      terms.add(new Term(v, idx));
    }
    List<Character> out =
        arrow < 0
            ? implicitOutput(terms, ellipsis)
            : explicitOutput(eq.substring(arrow + 2), ellipsis);
    for (int i = 0; i < n; i++) {
      Term t = terms.get(i);
      for (int a = 0; a < t.idx().size(); a++) {
        size(t.idx().get(a), t.v().type().dim(a));
      }
    }
    for (char c : out) {
      if (!sizes.containsKey(c)) {
        throw new ImportException(
            "ONNX operator " + cx.describe() + ": output index '" + c + "' is in no input");
      }
    }
    for (int i = 0; i < n; i++) {
      terms.set(i, sumOwn(diagonals(terms.get(i)), terms, i, out));
    }
    Term cur = terms.get(0);
    for (int j = 1; j < n; j++) {
      Set<Character> keep = new HashSet<>(out);
      for (int k = j + 1; k < n; k++) {
        keep.addAll(terms.get(k).idx());
      }
      cur = contract(cur, terms.get(j), keep);
    }
    cx.out(transpose(cur, out).v());
  }

  /** The letters of one operand's spec, an ellipsis expanded to the axes it covers. */
  private List<Character> letters(String spec, int rank) {
    List<Character> idx = new ArrayList<>();
    int dots = spec.indexOf("...");
    String named = dots < 0 ? spec : spec.replace("...", "");
    for (char c : named.toCharArray()) {
      if (!Character.isLetter(c)) {
        throw new ImportException(
            "ONNX operator " + cx.describe() + ": '" + c + "' in an equation is not an index");
      }
    }
    int covered = rank - named.length();
    if (covered < 0 || dots < 0 && covered != 0) {
      throw new ImportException(
          "ONNX operator "
              + cx.describe()
              + ": '"
              + spec
              + "' does not fit a rank-"
              + rank
              + " input");
    }
    for (char c : spec.substring(0, dots < 0 ? spec.length() : dots).toCharArray()) {
      idx.add(c);
    }
    for (int k = 0; k < covered; k++) {
      idx.add(ellipsisLetter(k, covered));
    }
    if (dots >= 0) {
      for (char c : spec.substring(dots + 3).toCharArray()) {
        idx.add(c);
      }
    }
    return idx;
  }

  /** Ellipsis axis {@code k} of {@code covered}, aligned from the right across operands. */
  private static char ellipsisLetter(int k, int covered) {
    return (char) (ELLIPSIS_BASE + 64 - covered + k);
  }

  private List<Character> explicitOutput(String spec, int ellipsis) {
    List<Character> out = new ArrayList<>();
    int dots = spec.indexOf("...");
    String before = dots < 0 ? spec : spec.substring(0, dots);
    for (char c : before.toCharArray()) {
      out.add(c);
    }
    if (dots >= 0) {
      for (int k = 0; k < ellipsis; k++) {
        out.add(ellipsisLetter(k, ellipsis));
      }
      for (char c : spec.substring(dots + 3).toCharArray()) {
        out.add(c);
      }
    }
    if (new HashSet<>(out).size() != out.size()) {
      throw new ImportException(
          "ONNX operator " + cx.describe() + ": output '" + spec + "' repeats an index");
    }
    return out;
  }

  /** Without "->": the ellipsis axes, then the letters that occur once, alphabetically. */
  private static List<Character> implicitOutput(List<Term> terms, int ellipsis) {
    List<Character> out = new ArrayList<>();
    for (int k = 0; k < ellipsis; k++) {
      out.add(ellipsisLetter(k, ellipsis));
    }
    Map<Character, Integer> count = new HashMap<>();
    for (Term t : terms) {
      for (char c : t.idx()) {
        if (c < ELLIPSIS_BASE) {
          count.merge(c, 1, Integer::sum);
        }
      }
    }
    for (char c : new TreeSet<>(count.keySet())) {
      if (count.get(c) == 1) {
        out.add(c);
      }
    }
    return out;
  }

  private void size(char c, Dim d) {
    Dim have = sizes.putIfAbsent(c, d);
    if (have != null && !have.equals(d)) {
      throw cx.unsupportedHere("index sizes " + have + " and " + d + " (broadcasting)");
    }
  }

  /** Each repeated index of one operand reduced to its diagonal (a select, then a sum). */
  private Term diagonals(Term t) {
    Value v = t.v();
    List<Character> idx = new ArrayList<>(t.idx());
    for (int p = 0; p < idx.size(); p++) {
      int q = idx.subList(p + 1, idx.size()).indexOf(idx.get(p));
      while (q >= 0) {
        q += p + 1;
        Dim d = sizes.get(idx.get(p));
        if (!d.isKnown()) {
          throw cx.unsupportedHere("a diagonal of size " + d);
        }
        int len = (int) d.value();
        long[] shape = new long[idx.size()];
        Arrays.fill(shape, 1);
        shape[p] = len;
        shape[q] = len;
        long[] eye = new long[len * len];
        for (int k = 0; k < len; k++) {
          eye[k * len + k] = 1;
        }
        Value mask = cx.graph().addConst(Tensor.ofLongs(DType.BOOL, shape, eye), cx.loc());
        v = cx.add(Op.WHERE, mask, v, cx.scalar(0, v.type().dtype()));
        v = cx.add(Op.REDUCE_SUM, Attrs.of("axis", q, "keep", false), v);
        idx.remove(q);
        q = idx.subList(p + 1, idx.size()).indexOf(idx.get(p));
      }
    }
    return new Term(v, idx);
  }

  /** Sums out the indices of operand {@code i} that no other operand and not the result has. */
  private Term sumOwn(Term t, List<Term> terms, int i, List<Character> out) {
    Set<Character> elsewhere = new HashSet<>(out);
    for (int k = 0; k < terms.size(); k++) {
      if (k != i) {
        elsewhere.addAll(terms.get(k).idx());
      }
    }
    Value v = t.v();
    List<Character> idx = new ArrayList<>(t.idx());
    for (int a = idx.size() - 1; a >= 0; a--) {
      if (!elsewhere.contains(idx.get(a))) {
        v = cx.add(Op.REDUCE_SUM, Attrs.of("axis", a, "keep", false), v);
        idx.remove(a);
      }
    }
    return new Term(v, idx);
  }

  /**
   * The contraction of two operands: their shared indices in {@code keep} are batch axes, the other
   * shared ones are summed by a matmul; the result's indices are the batch ones, then {@code a}'s
   * own, then {@code b}'s own.
   */
  private Term contract(Term a, Term b, Set<Character> keep) {
    List<Character> batch = new ArrayList<>();
    List<Character> summed = new ArrayList<>();
    List<Character> aOwn = new ArrayList<>();
    List<Character> bOwn = new ArrayList<>();
    for (char c : a.idx()) {
      if (b.idx().contains(c)) {
        (keep.contains(c) ? batch : summed).add(c);
      } else {
        aOwn.add(c);
      }
    }
    for (char c : b.idx()) {
      if (!a.idx().contains(c)) {
        bOwn.add(c);
      }
    }
    List<Dim> bd = dims(batch);
    Dim m = ImportContext.product(dims(aOwn));
    Dim k = ImportContext.product(dims(summed));
    Dim nn = ImportContext.product(dims(bOwn));
    Value x = transpose(a, concat(batch, aOwn, summed)).v();
    Value y = transpose(b, concat(batch, summed, bOwn)).v();
    Value z;
    if (summed.isEmpty()) {
      z =
          cx.add(
              Op.MUL,
              cx.reshape(x, concat(bd, List.of(m, Dim.of(1)))),
              cx.reshape(y, concat(bd, List.of(Dim.of(1), nn))));
    } else {
      z =
          cx.add(
              Op.MATMUL,
              cx.reshape(x, concat(bd, List.of(m, k))),
              cx.reshape(y, concat(bd, List.of(k, nn))));
    }
    List<Character> idx = concat(batch, aOwn, bOwn);
    return new Term(cx.reshape(z, dims(idx)), idx);
  }

  private Term transpose(Term t, List<Character> order) {
    long[] perm = new long[order.size()];
    boolean identity = true;
    for (int i = 0; i < perm.length; i++) {
      perm[i] = t.idx().indexOf(order.get(i));
      identity &= perm[i] == i;
    }
    Value v = identity ? t.v() : cx.add(Op.TRANSPOSE, Attrs.of("perm", perm), t.v());
    return new Term(v, order);
  }

  private List<Dim> dims(List<Character> idx) {
    List<Dim> d = new ArrayList<>();
    for (char c : idx) {
      d.add(sizes.get(c));
    }
    return d;
  }

  @SafeVarargs
  private static <T> List<T> concat(List<T>... parts) {
    List<T> out = new ArrayList<>();
    for (List<T> p : parts) {
      out.addAll(p);
    }
    return out;
  }
}
