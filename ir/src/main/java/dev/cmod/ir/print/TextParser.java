package dev.cmod.ir.print;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the text form {@link TextPrinter} writes back into a graph, so that IR goldens and rule
 * tests can be written as readable text. Nodes are created in the order of their lines (which must
 * be topological), so the parsed graph's node ids are the line positions and printing it gives the
 * same text with the ids renumbered densely. Blank lines and lines starting with {@code //} are
 * skipped.
 *
 * <p>The text form leaves out some data; the parser fills it deterministically so that a reprint is
 * unchanged: a parameter's value is zeros unless a value list follows its path ({@code param "w"
 * [1, 2] : f32[2]}), its trainable flag is true unless {@code {trainable=false}} follows, and a
 * constant whose preview ends in {@code ...} repeats its shown values. Attributes keep their Java
 * type by key: {@code dims} and {@code sizes} are dim lists, {@code start} and {@code end} dims,
 * {@code to} an element type, other lists are integer arrays.
 */
public final class TextParser {
  /** A line that does not parse, with its 1-based number. */
  public static final class ParseException extends IllegalArgumentException {
    public ParseException(int line, String message) {
      super("line " + line + ": " + message);
    }
  }

  private static final Set<String> DIM_LISTS = Set.of("dims", "sizes");
  private static final Set<String> DIMS = Set.of("start", "end");

  private final Graph graph;
  private final Map<String, Node> byId = new HashMap<>();
  private String s;
  private int pos;
  private int lineNo;

  private TextParser(String name) {
    this.graph = new Graph(name);
  }

  /** The graph written as {@code text}, named {@code name}. */
  public static Graph parse(String name, String text) {
    TextParser p = new TextParser(name);
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      p.lineNo = i + 1;
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("//")) {
        continue;
      }
      p.s = line;
      p.pos = 0;
      try {
        p.line();
      } catch (ParseException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new ParseException(p.lineNo, e.getMessage() + " in: " + line);
      }
    }
    return p.graph;
  }

  private void line() {
    if (s.startsWith("output ")) {
      pos = "output ".length();
      String name = string();
      expect(" = ");
      Value v = value();
      end();
      graph.setOutput(name, v);
      return;
    }
    expect("%");
    String id = word();
    if (byId.containsKey(id)) {
      throw error("%" + id + " is defined twice");
    }
    expect(" = ");
    String opText = word();
    Op op = opOf(opText);
    Node n;
    switch (op) {
      case INPUT -> {
        expect(" ");
        String name = string();
        expect(" : ");
        TensorType t = type();
        n = graph.addInput(name, t, loc()).node();
      }
      case PARAM -> {
        expect(" ");
        String path = string();
        boolean trainable = true;
        if (peek(" {")) {
          expect(" {trainable=");
          trainable = Boolean.parseBoolean(word());
          expect("}");
        }
        List<String> values = peek(" [") ? list() : null;
        expect(" : ");
        TensorType t = type();
        n = graph.addParam(path, tensor(t, values), trainable, loc()).node();
      }
      case CONST -> {
        expect(" ");
        List<String> values = list();
        expect(" : ");
        TensorType t = type();
        n = graph.addConst(tensor(t, values), loc()).node();
      }
      default -> {
        expect("(");
        List<Value> operands = new ArrayList<>();
        while (!peek(")")) {
          if (!operands.isEmpty()) {
            expect(", ");
          }
          operands.add(value());
        }
        expect(")");
        Attrs attrs = peek(" {") ? attrs() : Attrs.NONE;
        expect(" : ");
        List<TensorType> types = types();
        SourceLoc loc = loc();
        n = graph.add(op, attrs, operands, loc);
        if (!n.outputTypes().equals(types)) {
          throw error(
              "the written types " + types + " differ from the inferred " + n.outputTypes());
        }
      }
    }
    byId.put(id, n);
  }

  private static Op opOf(String text) {
    for (Op o : Op.values()) {
      if (o.text().equals(text)) {
        return o;
      }
    }
    throw new IllegalArgumentException("unknown op '" + text + "'");
  }

  private Value value() {
    expect("%");
    String id = word();
    int index = 0;
    if (peek("#")) {
      expect("#");
      index = Integer.parseInt(word());
    }
    Node n = byId.get(id);
    if (n == null) {
      throw error("%" + id + " is used before it is defined");
    }
    return n.out(index);
  }

  private SourceLoc loc() {
    if (pos == s.length()) {
      return null;
    }
    expect("  // ");
    String text = s.substring(pos);
    pos = s.length();
    int c2 = text.lastIndexOf(':');
    int c1 = text.lastIndexOf(':', c2 - 1);
    if (c1 < 0) {
      throw error("a location is FILE:LINE:COLUMN, not '" + text + "'");
    }
    return new SourceLoc(
        text.substring(0, c1),
        Integer.parseInt(text.substring(c1 + 1, c2)),
        Integer.parseInt(text.substring(c2 + 1)));
  }

  private Attrs attrs() {
    expect(" {");
    List<Object> kv = new ArrayList<>();
    while (!peek("}")) {
      if (!kv.isEmpty()) {
        expect(", ");
      }
      String key = word();
      expect("=");
      kv.add(key);
      kv.add(attrValue(key));
    }
    expect("}");
    return Attrs.of(kv.toArray());
  }

  private Object attrValue(String key) {
    if (peek("[")) {
      List<String> items = list();
      if (DIM_LISTS.contains(key)) {
        return items.stream().map(TextParser::dim).toList();
      }
      long[] a = new long[items.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = Long.parseLong(items.get(i));
      }
      return a;
    }
    if (peek("\"")) {
      int close = s.indexOf('"', pos + 1);
      String v = s.substring(pos + 1, close);
      pos = close + 1;
      return v;
    }
    int start = pos;
    while (pos < s.length() && s.charAt(pos) != ',' && s.charAt(pos) != '}') {
      pos++;
    }
    String text = s.substring(start, pos);
    if (DIMS.contains(key)) {
      return dim(text);
    }
    if (text.equals("true") || text.equals("false")) {
      return Boolean.parseBoolean(text);
    }
    DType d = DType.fromText(text);
    if (d != null) {
      return d;
    }
    if (text.matches("-?\\d+")) {
      return Long.parseLong(text);
    }
    return Double.parseDouble(text);
  }

  private List<TensorType> types() {
    if (!peek("(")) {
      return List.of(type());
    }
    expect("(");
    List<TensorType> ts = new ArrayList<>();
    while (!peek(")")) {
      if (!ts.isEmpty()) {
        expect(", ");
      }
      ts.add(type());
    }
    expect(")");
    return ts;
  }

  private TensorType type() {
    String dt = word();
    DType d = DType.fromText(dt);
    if (d == null) {
      throw error("unknown element type '" + dt + "'");
    }
    return new TensorType(d, list().stream().map(TextParser::dim).toList());
  }

  /** A bracketed, comma-separated list of items, as text; nested brackets are not allowed. */
  private List<String> list() {
    if (peek(" [")) {
      pos++;
    }
    expect("[");
    int close = s.indexOf(']', pos);
    if (close < 0) {
      throw error("a list has no closing ]");
    }
    String body = s.substring(pos, close).strip();
    pos = close + 1;
    List<String> items = new ArrayList<>();
    if (!body.isEmpty()) {
      for (String item : body.split(",")) {
        items.add(item.strip());
      }
    }
    return items;
  }

  private Tensor tensor(TensorType t, List<String> shown) {
    long[] shape = new long[t.rank()];
    for (int i = 0; i < shape.length; i++) {
      if (!t.dim(i).isKnown()) {
        throw error("a tensor value needs a known shape, not " + t);
      }
      shape[i] = t.dim(i).value();
    }
    int n = Math.toIntExact(Tensor.numel(shape));
    if (shown == null) {
      return Tensor.zeros(t.dtype(), shape);
    }
    List<String> vals = new ArrayList<>(shown);
    boolean elided = !vals.isEmpty() && vals.get(vals.size() - 1).equals("...");
    if (elided) {
      vals.remove(vals.size() - 1);
    }
    if (elided ? vals.isEmpty() || vals.size() > n : vals.size() != n) {
      throw error(t + " has " + n + " elements, the text shows " + shown.size());
    }
    if (t.dtype().isFloat()) {
      float[] f = new float[n];
      for (int i = 0; i < n; i++) {
        f[i] = Float.parseFloat(vals.get(i % vals.size()));
      }
      return Tensor.ofFloats(t.dtype(), shape, f);
    }
    long[] l = new long[n];
    for (int i = 0; i < n; i++) {
      l[i] = Long.parseLong(vals.get(i % vals.size()));
    }
    return Tensor.ofLongs(t.dtype(), shape, l);
  }

  /** A dim as {@link Dim#toString()} writes it: sums of products of integers and symbols. */
  static Dim dim(String text) {
    if (text.equals("_")) {
      return Dim.UNKNOWN;
    }
    DimReader r = new DimReader(text);
    Dim d = r.sum();
    if (r.pos != text.length()) {
      throw new IllegalArgumentException("bad dim '" + text + "'");
    }
    return d;
  }

  private static final class DimReader {
    final String t;
    int pos;

    DimReader(String t) {
      this.t = t;
    }

    Dim sum() {
      Dim d = t.startsWith("-", pos) ? Dim.of(0) : product();
      while (pos < t.length() && (t.charAt(pos) == '+' || t.charAt(pos) == '-')) {
        boolean minus = t.charAt(pos++) == '-';
        Dim p = product();
        d = minus ? d.minus(p) : d.plus(p);
      }
      return d;
    }

    Dim product() {
      Dim d = atom();
      while (pos < t.length() && t.charAt(pos) == '*') {
        pos++;
        d = d.times(atom());
      }
      return d;
    }

    Dim atom() {
      if (pos < t.length() && t.charAt(pos) == '(') {
        pos++;
        Dim num = sum();
        if (pos >= t.length() || t.charAt(pos) != '/') {
          throw new IllegalArgumentException("bad dim '" + t + "'");
        }
        pos++;
        Dim den = sum();
        if (pos >= t.length() || t.charAt(pos) != ')') {
          throw new IllegalArgumentException("bad dim '" + t + "'");
        }
        pos++;
        return num.div(den);
      }
      int start = pos;
      while (pos < t.length()
          && (Character.isLetterOrDigit(t.charAt(pos)) || t.charAt(pos) == '_')) {
        pos++;
      }
      String w = t.substring(start, pos);
      if (w.isEmpty()) {
        throw new IllegalArgumentException("bad dim '" + t + "'");
      }
      return Character.isDigit(w.charAt(0)) ? Dim.of(Long.parseLong(w)) : Dim.sym(w);
    }
  }

  private String string() {
    expect("\"");
    StringBuilder sb = new StringBuilder();
    while (pos < s.length() && s.charAt(pos) != '"') {
      char c = s.charAt(pos++);
      if (c == '\\') {
        char e = s.charAt(pos++);
        switch (e) {
          case 'n' -> sb.append('\n');
          case 't' -> sb.append('\t');
          case 'u' -> {
            sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
            pos += 4;
          }
          default -> sb.append(e);
        }
      } else {
        sb.append(c);
      }
    }
    expect("\"");
    return sb.toString();
  }

  private String word() {
    int start = pos;
    while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
      pos++;
    }
    if (start == pos) {
      throw error("expected a name or number at column " + (pos + 1));
    }
    return s.substring(start, pos);
  }

  private boolean peek(String text) {
    return s.startsWith(text, pos);
  }

  private void expect(String text) {
    if (!peek(text)) {
      throw error("expected '" + text + "' at column " + (pos + 1));
    }
    pos += text.length();
  }

  private void end() {
    if (pos != s.length()) {
      throw error("unexpected text at column " + (pos + 1));
    }
  }

  private ParseException error(String message) {
    return new ParseException(lineNo, message);
  }
}
