package dev.cmod.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Grammar-aware generator of {@code .cmod} programs driven by a {@link FuzzedDataProvider}, so the
 * fuzzer's coverage feedback steers the choices. It tracks the shape of every tensor it binds, so
 * most programs it emits are well typed and reach elaboration, optimization and ONNX emission; with
 * {@code wildArgs} it replaces builtin and module arguments by random values (zero, negative and
 * huge sizes, floats, strings, booleans, none, lists, unknown named arguments, missing or extra
 * arguments), and {@link #mutate} then applies token-level mutations (delete, duplicate, swap,
 * replace by a keyword or punctuation, insert) to the emitted text.
 *
 * <p>Constructs: std.nn imports, relative imports of files in the sandbox (an ordinary module file,
 * an import cycle, a missing file), consts, user modules (hyperparameters with defaults, tensor
 * arguments with dim patterns, params with initializers, lets, if/then/else, result types), models
 * with compute/budget items, inputs of every modality type (with symbolic dims and where bounds),
 * lets, pipes, builtin calls, std.nn and user module instances, repeat, if/then/else, tuple
 * results, params, constraints, align, weights files, and outputs with or without types.
 * Not-yet-implemented constructs (with lora, route, fuse) appear rarely, for their diagnostics.
 */
final class CmodGenerator {
  private static final String[] STD = {
    "Linear",
    "Embedding",
    "LayerNorm",
    "RMSNorm",
    "Mlp",
    "MultiHeadAttention",
    "TransformerBlock",
    "Conv2d",
    "PatchEmbed"
  };
  private static final String[] UNARY = {
    "relu", "gelu", "silu", "tanh", "sigmoid", "exp", "abs", "erf", "sqrt", "log"
  };
  private static final String[] WILD = {
    "0",
    "-1",
    "1",
    "3",
    "-7",
    "65536",
    "2147483648",
    "9223372036854775807",
    "99999999999999999999",
    "1T",
    "40M",
    "1e308",
    "-0.0",
    "0.5",
    "1e-45",
    "\"none\"",
    "\"tanh\"",
    "\"\"",
    "true",
    "false",
    "none",
    "[]",
    "[1, 2]",
    "[0, -1]",
    "[batch, -1]",
    "f32",
    "i64",
    "init.zeros",
    "_bad_",
    "batch",
    "seq",
    "axis = 1",
    "keep = true",
    "foo = 1",
    "causal = true",
    "stride = 0",
    "padding = -1",
    "approx = \"tanh\"",
    "eps = 0.0",
    "(1)",
    "-(-2)",
    "7 / 0",
    "7 % 0",
    "2 * 3 + 1",
    "4 @ 4",
    "x",
    "x.T",
    "[x, x]"
  };
  private static final String[] TOKENS = {
    "import",
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
    "<",
    ">",
    "=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "@",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ";",
    ".",
    "_",
    "\n",
    "0",
    "1",
    "-1",
    "8",
    "1e9",
    "\"x\"",
    "f32",
    "i64",
    "x",
    "batch"
  };
  private static final Pattern TOKEN =
      Pattern.compile(
          "\\s+|//[^\\n]*|\"(?:[^\"\\\\\\n]|\\\\.)*\"|[0-9][0-9_]*(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[KMGT]?"
              + "|[A-Za-z_][A-Za-z_0-9]*|\\|>|->|\\.\\.\\.|<=|>=|==|!=|.",
          Pattern.DOTALL);

  /** A bound tensor: its name, element type and dims (leading "batch" included). */
  private record Var(String name, String dtype, List<String> dims) {
    int rank() {
      return dims.size();
    }

    String last() {
      return dims.get(dims.size() - 1);
    }

    boolean isFloat() {
      return dtype.equals("f32");
    }
  }

  /** A user module the generator declared: hyperparameter count and whether it needs [b, s, d]. */
  private record UserModule(String name, int hypers, boolean seq) {}

  private final FuzzedDataProvider in;
  private final boolean wildArgs;
  private final StringBuilder out = new StringBuilder();
  private final List<Var> vars = new ArrayList<>();
  private final List<UserModule> modules = new ArrayList<>();
  private final List<String> consts = new ArrayList<>();
  private boolean stdImported;
  private boolean blocksImported;
  private int fresh;

  private CmodGenerator(FuzzedDataProvider in, boolean wildArgs) {
    this.in = in;
    this.wildArgs = wildArgs;
  }

  /** A program: valid-leaning, with wild arguments when the input asks for them. */
  static String generate(FuzzedDataProvider in) {
    boolean wild = in.consumeInt(0, 3) == 3;
    return new CmodGenerator(in, wild).program();
  }

  /** True with probability 1/outOf for random data; false once the input is used up. */
  private boolean chance(int outOf) {
    return in.consumeInt(0, outOf - 1) == outOf - 1;
  }

  private <T> T pick(T[] items) {
    return items[in.consumeInt(0, items.length - 1)];
  }

  private int small(int lo, int hi) {
    return in.consumeInt(lo, hi);
  }

  private String name(String prefix) {
    return prefix + (fresh++);
  }

  /**
   * A hyperparameter or builtin argument: {@code good}, or with wild arguments sometimes a random
   * value.
   */
  private String arg(String good) {
    if (wildArgs && chance(4)) {
      return pick(WILD);
    }
    return good;
  }

  private String program() {
    if (!chance(10)) {
      out.append("import std.nn.{");
      int n = chance(4) ? small(1, STD.length) : STD.length;
      for (int i = 0; i < n; i++) {
        out.append(i > 0 ? ", " : "").append(STD[i]);
      }
      out.append("}\n");
      stdImported = n == STD.length;
    }
    if (chance(6)) {
      String[] files = {
        "./blocks.cmod", "./cycle_a.cmod", "./missing.cmod", "blocks.cmod", "./sub/../blocks.cmod"
      };
      String f = pick(files);
      out.append("import \"").append(f).append("\"\n");
      blocksImported = f.endsWith("blocks.cmod") && !f.contains("missing");
    }
    int nConsts = small(0, 3);
    for (int i = 0; i < nConsts; i++) {
      String c = "C" + i;
      out.append("const ")
          .append(c)
          .append(" = ")
          .append(arg(Integer.toString(small(1, 16))))
          .append('\n');
      consts.add(c);
    }
    int nModules = small(0, 2);
    for (int i = 0; i < nModules; i++) {
      userModule(i);
    }
    int nModels = chance(8) ? 2 : 1;
    for (int i = 0; i < nModels; i++) {
      model(i);
    }
    return out.toString();
  }

  private void userModule(int i) {
    String name = "Block" + i;
    int kind = small(0, 3);
    switch (kind) {
      case 0 -> {
        // shape-preserving block over the last axis
        out.append("module ")
            .append(name)
            .append("(dim: int, scale: float = ")
            .append(arg("0.5"))
            .append(")(x: f32[..., dim]) -> f32[..., dim] {\n");
        out.append("  param w: f32[dim, dim] = ")
            .append(
                pick(
                    new String[] {
                      "init.xavier",
                      "init.kaiming",
                      "init.zeros",
                      "init.normal(0.02)",
                      "init.uniform(0.1)",
                      "init.constant(2.0)",
                      "1.5"
                    }))
            .append('\n');
        out.append("  let h = ").append(pick(UNARY)).append("(x @ w) * scale\n");
        out.append("  if dim > ").append(arg("4")).append(" then h + x else h\n");
        out.append("}\n");
        modules.add(new UserModule(name, 1, false));
      }
      case 1 -> {
        // sequence block with explicit dims
        out.append("module ")
            .append(name)
            .append("(dim: int, heads: int = ")
            .append(arg("2"))
            .append(")(x: f32[b, s, dim]) -> f32[b, s, dim] {\n");
        out.append("  let q = reshape(x, [b, s, heads, dim / heads])\n");
        out.append("  let t = transpose(q, [0, 2, 1, 3])\n");
        out.append("  let a = attention(t, t, t, causal = ")
            .append(chance(2) ? "true" : "false")
            .append(")\n");
        out.append("  return reshape(transpose(a, [0, 2, 1, 3]), [b, s, dim]) + x\n");
        out.append("}\n");
        modules.add(new UserModule(name, 2, true));
      }
      case 2 -> {
        // no hyperparameters; two results as a tuple
        out.append("module ")
            .append(name)
            .append("(x: f32[..., d]) -> (lo: f32[..., d], hi: f32[..., d]) {\n");
        out.append("  [minimum(x, 0.0), maximum(x, 0.0)]\n");
        out.append("}\n");
        modules.add(new UserModule(name, 0, false));
      }
      default -> {
        // a module that applies another module and a frozen instance
        out.append("module ")
            .append(name)
            .append("(dim: int)(x: f32[..., dim]) -> f32[..., dim] {\n");
        if (stdImported) {
          out.append("  let inner = ")
              .append(chance(2) ? "frozen " : "")
              .append("Linear(dim, dim)\n");
          out.append("  x |> inner |> ").append(pick(UNARY)).append('\n');
        } else {
          out.append("  softmax(x, axis = -1)\n");
        }
        out.append("}\n");
        modules.add(new UserModule(name, 1, false));
      }
    }
  }

  private void model(int index) {
    vars.clear();
    out.append("model M").append(index).append(" {\n");
    if (chance(4)) {
      out.append("  compute ")
          .append(pick(new String[] {"tiny", "small", "medium", "large", "huge"}))
          .append('\n');
    }
    if (chance(6)) {
      out.append("  budget { params <= ")
          .append(arg(pick(new String[] {"40M", "100", "1K", "0"})))
          .append(", flops <= ")
          .append(arg(pick(new String[] {"3G", "1000", "1T"})))
          .append(" }\n");
    }
    int nInputs = small(1, 3);
    for (int i = 0; i < nInputs; i++) {
      input("in" + i);
    }
    if (nInputs >= 2 && chance(8)) {
      out.append("  align in0, in1 on time\n");
    }
    if (chance(12)) {
      out.append("  weights \"")
          .append(
              pick(new String[] {"w.safetensors", "garbage.safetensors", "missing.safetensors"}))
          .append("\"\n");
    }
    int steps = small(0, 10);
    for (int i = 0; i < steps; i++) {
      step();
    }
    int nOut = small(1, 2);
    for (int i = 0; i < nOut; i++) {
      output("out" + i);
    }
    if (chance(10)) {
      Var v = anyVar();
      out.append("  constraint score = cosine(")
          .append(v.name())
          .append(", ")
          .append(v.name())
          .append(")\n");
    }
    out.append("}\n");
  }

  private String dimLit() {
    if (!consts.isEmpty() && chance(5)) {
      return consts.get(small(0, consts.size() - 1));
    }
    return arg(Integer.toString(pick(new Integer[] {1, 2, 3, 4, 8, 16})));
  }

  private void input(String n) {
    int kind = small(0, 7);
    List<String> dims = new ArrayList<>();
    dims.add("batch");
    String dtype = "f32";
    String type;
    String where = "";
    switch (kind) {
      case 0 -> {
        int c = small(1, 3);
        int h = pick(new Integer[] {4, 8, 16});
        type = "Image[" + c + ", " + h + ", " + h + "]";
        dims.add("" + c);
        dims.add("" + h);
        dims.add("" + h);
      }
      case 1 -> {
        int t = pick(new Integer[] {8, 16, 64});
        type = "Audio[" + t + "]";
        dims.add("" + t);
      }
      case 2 -> {
        int v = pick(new Integer[] {10, 100});
        if (chance(2)) {
          type = "Text[seq] vocab " + arg("" + v);
          dims.add("seq");
          where = " where seq <= " + arg("64");
        } else {
          type = "Text[8] vocab " + v;
          dims.add("8");
        }
        dtype = "i64";
      }
      case 3 -> {
        type = "Class[" + arg("10") + "]";
        dtype = "i64";
      }
      case 4 -> {
        String d = dimLit();
        type = "Vector[" + d + "]";
        dims.add(d);
      }
      case 5 -> {
        String s = chance(2) ? "s" : "4";
        String d = pick(new String[] {"4", "8", "16"});
        type = "Seq[" + s + ", " + d + "]";
        dims.add(s);
        dims.add(d);
        if (s.equals("s") && chance(2)) {
          where = " where s <= 32, s >= " + arg("1");
        }
      }
      case 6 -> {
        String d = dimLit();
        type = "f32[" + d + "]";
        dims.add(d);
      }
      default -> {
        String d = dimLit();
        type = "f32[4, " + d + "]";
        dims.add("4");
        dims.add(d);
      }
    }
    out.append("  input ").append(n).append(": ").append(type).append(where).append('\n');
    vars.add(new Var(n, dtype, dims));
  }

  private Var anyVar() {
    return vars.get(small(0, vars.size() - 1));
  }

  private Var floatVar() {
    List<Var> fs = new ArrayList<>();
    for (Var v : vars) {
      if (v.isFloat()) {
        fs.add(v);
      }
    }
    return fs.isEmpty() ? null : fs.get(small(0, fs.size() - 1));
  }

  private void bind(String expr, String dtype, List<String> dims) {
    String n = name("v");
    out.append("  let ").append(n).append(" = ").append(expr).append('\n');
    vars.add(new Var(n, dtype, dims));
  }

  private static List<String> with(List<String> dims, int axis, String value) {
    List<String> d = new ArrayList<>(dims);
    d.set(axis, value);
    return d;
  }

  /**
   * A small literal size the generator can compute with (wild values such as 1T or 2^63-1 are not).
   */
  private static boolean isInt(String d) {
    return d.matches("[0-9]{1,6}");
  }

  private static int val(String d) {
    return Integer.parseInt(d);
  }

  /** One let (or param) of the model body, built from a tracked tensor. */
  private void step() {
    Var ids = null;
    for (Var v : vars) {
      if (!v.isFloat() && v.rank() == 2) {
        ids = v;
      }
    }
    Var cls = null;
    for (Var v : vars) {
      if (!v.isFloat() && v.rank() == 1) {
        cls = v;
      }
    }
    Var v = floatVar();
    int op = small(0, 27);
    if (v == null || (op >= 25 && (ids != null || cls != null))) {
      if (ids != null && (cls == null || chance(2))) {
        String dim = pick(new String[] {"8", "16"});
        if (stdImported && chance(2)) {
          bind(
              ids.name() + " |> Embedding(" + arg("100") + ", " + arg(dim) + ")",
              "f32",
              append(ids.dims(), dim));
        } else {
          bind("one_hot(" + ids.name() + ", " + arg("100") + ")", "f32", append(ids.dims(), "100"));
        }
      } else if (cls != null) {
        bind("one_hot(" + cls.name() + ", " + arg("10") + ")", "f32", append(cls.dims(), "10"));
      } else {
        Var x = anyVar();
        bind("cast(" + x.name() + ", " + arg("f32") + ")", "f32", x.dims());
      }
      return;
    }
    String x = v.name();
    String last = v.last();
    int r = v.rank();
    switch (op) {
      case 0 -> bind(pick(UNARY) + "(" + x + ")", "f32", v.dims());
      case 1 -> bind(x + " |> " + pick(UNARY), "f32", v.dims());
      case 2 -> bind(x + " * " + arg("0.5") + " + " + arg("1.0"), "f32", v.dims());
      case 3 -> {
        Var u = sameShape(v);
        bind(x + " " + pick(new String[] {"+", "-", "*", "/"}) + " " + u.name(), "f32", v.dims());
      }
      case 4 -> {
        if (stdImported && isInt(last)) {
          String k = pick(new String[] {"2", "4", "8"});
          if (chance(2)) {
            bind(
                x + " |> Linear(" + arg(last) + ", " + arg(k) + ")",
                "f32",
                with(v.dims(), r - 1, k));
          } else {
            String l = name("lin");
            out.append("  let ")
                .append(l)
                .append(" = Linear(")
                .append(arg(last))
                .append(", ")
                .append(arg(k))
                .append(chance(3) ? ", use_bias = false" : "")
                .append(")\n");
            bind(l + "(" + x + ")", "f32", with(v.dims(), r - 1, k));
          }
        } else {
          bind("softmax(" + x + ", axis = " + arg("-1") + ")", "f32", v.dims());
        }
      }
      case 5 -> {
        String norm =
            stdImported && isInt(last) ? pick(new String[] {"LayerNorm", "RMSNorm", "Mlp"}) : null;
        if (norm != null) {
          bind(x + " |> " + norm + "(" + arg(last) + ")", "f32", v.dims());
        } else {
          bind("log_softmax(" + x + ")", "f32", v.dims());
        }
      }
      case 6 -> {
        int a = small(-r, r - 1);
        bind("softmax(" + x + ", axis = " + arg("" + a) + ")", "f32", v.dims());
      }
      case 7 -> {
        if (r >= 2) {
          int a = small(1, r - 1);
          boolean keep = chance(2);
          String f = pick(new String[] {"mean", "sum", "max", "min"});
          List<String> d = new ArrayList<>(v.dims());
          if (keep) {
            d.set(a, "1");
          } else {
            d.remove(a);
          }
          if (d.size() < 2) {
            d = new ArrayList<>(v.dims());
            d.set(a, "1");
            keep = true;
          }
          bind(f + "(" + x + ", " + arg("" + a) + (keep ? ", keep = true" : "") + ")", "f32", d);
        } else {
          bind("unsqueeze(" + x + ", " + arg("1") + ")", "f32", append(v.dims(), "1"));
        }
      }
      case 8 -> {
        int a = small(1, r);
        List<String> d = new ArrayList<>(v.dims());
        d.add(a, "1");
        bind("unsqueeze(" + x + ", " + arg("" + a) + ")", "f32", d);
      }
      case 9 -> {
        int a = -1;
        for (int i = 1; i < r; i++) {
          if (v.dims().get(i).equals("1")) {
            a = i;
          }
        }
        if (a > 0) {
          List<String> d = new ArrayList<>(v.dims());
          d.remove(a);
          bind(x + " |> squeeze(" + arg("" + a) + ")", "f32", d);
        } else {
          bind(
              "concat([" + x + ", " + x + "], " + arg("-1") + ")",
              "f32",
              with(v.dims(), r - 1, isInt(last) ? "" + 2 * val(last) : "(2 * " + last + ")"));
        }
      }
      case 10 -> {
        if (r >= 3) {
          List<String> d = new ArrayList<>(v.dims());
          String t = d.get(r - 1);
          d.set(r - 1, d.get(r - 2));
          d.set(r - 2, t);
          bind(chance(2) ? x + ".T" : "transpose(" + x + ", " + perm(r) + ")", "f32", d);
        } else {
          bind("exp(-" + x + ")", "f32", v.dims());
        }
      }
      case 11 -> {
        if (r >= 2 && isInt(last)) {
          int len = val(last);
          int s = small(-len, len);
          int e = small(-len, len + 2);
          int lo = Math.max(0, s < 0 ? s + len : s);
          int hi = Math.min(len, Math.max(0, e < 0 ? e + len : e));
          String n = "" + Math.max(0, hi - lo);
          bind(
              "slice(" + x + ", " + arg("-1") + ", " + arg("" + s) + ", " + arg("" + e) + ")",
              "f32",
              with(v.dims(), r - 1, n));
        } else {
          bind("sqrt(abs(" + x + ") + 1e-6)", "f32", v.dims());
        }
      }
      case 12 -> {
        if (r >= 3 && allInt(v.dims(), 1)) {
          int p = 1;
          for (int i = 1; i < r; i++) {
            p *= val(v.dims().get(i));
          }
          if (chance(2)) {
            bind("reshape(" + x + ", " + arg("[batch, -1]") + ")", "f32", List.of("batch", "" + p));
          } else {
            bind("flatten(" + x + ", " + arg("1") + ")", "f32", List.of("batch", "" + p));
          }
        } else {
          bind(x + " / " + arg("2.0"), "f32", v.dims());
        }
      }
      case 13 -> {
        if (isInt(last)) {
          String k = pick(new String[] {"2", "4"});
          String w = name("w");
          out.append("  param ")
              .append(w)
              .append(": f32[")
              .append(arg(last))
              .append(", ")
              .append(arg(k))
              .append("] = ")
              .append(
                  pick(
                      new String[] {
                        "init.xavier",
                        "init.normal(0.02)",
                        "init.ones",
                        "init.kaiming",
                        "init.uniform(" + arg("0.5") + ")"
                      }))
              .append('\n');
          bind(
              x + (chance(2) ? " @ " + w : " |> matmul(" + w + ")"),
              "f32",
              with(v.dims(), r - 1, k));
        } else {
          bind("gelu(" + x + ", approx = " + arg("\"tanh\"") + ")", "f32", v.dims());
        }
      }
      case 14 -> {
        if (r == 3 && isInt(last) && stdImported) {
          int d = val(last);
          String h = d % 2 == 0 ? "2" : "1";
          String what = pick(new String[] {"TransformerBlock", "MultiHeadAttention"});
          bind(
              x
                  + " |> "
                  + what
                  + "("
                  + arg(last)
                  + ", "
                  + arg(h)
                  + (chance(2) ? ", causal = true" : "")
                  + ")",
              "f32",
              v.dims());
        } else if (r == 3) {
          bind(
              "attention("
                  + x
                  + ", "
                  + x
                  + ", "
                  + x
                  + (chance(2) ? ", causal = " + arg("true") : "")
                  + ")",
              "f32",
              v.dims());
        } else {
          bind("tanh(" + x + ")", "f32", v.dims());
        }
      }
      case 15 -> {
        if (r == 4 && allInt(v.dims(), 1)) {
          int c = val(v.dims().get(1));
          int h = val(v.dims().get(2));
          int w = val(v.dims().get(3));
          int k = Math.min(3, Math.min(h, w));
          int o = pick(new Integer[] {2, 4});
          if (stdImported && chance(2)) {
            bind(
                x + " |> Conv2d(" + arg("" + c) + ", " + arg("" + o) + ", " + arg("" + k) + ")",
                "f32",
                List.of("batch", "" + o, "" + (h - k + 1), "" + (w - k + 1)));
          } else if (h % 2 == 0 && w % 2 == 0) {
            String pool = pick(new String[] {"max_pool2d", "avg_pool2d"});
            bind(
                pool + "(" + x + ", " + arg("2") + ")",
                "f32",
                List.of("batch", "" + c, "" + h / 2, "" + w / 2));
          } else {
            bind(
                "upsample(" + x + ", " + arg("2") + ")",
                "f32",
                List.of("batch", "" + c, "" + 2 * h, "" + 2 * w));
          }
        } else {
          bind("maximum(" + x + ", " + arg("0.0") + ")", "f32", v.dims());
        }
      }
      case 16 -> {
        if (r == 4 && allInt(v.dims(), 1)) {
          int c = val(v.dims().get(1));
          int h = val(v.dims().get(2));
          int p = h % 4 == 0 ? 4 : 2;
          if (stdImported && chance(2)) {
            bind(
                "PatchEmbed(" + arg("" + c) + ", " + arg("" + p) + ", " + arg("8") + ")(" + x + ")",
                "f32",
                List.of("batch", "" + (h / p) * (h / p), "8"));
          } else {
            bind(
                "patchify(" + x + ", " + arg("" + p) + ")",
                "f32",
                List.of("batch", "" + (h / p) * (h / p), "" + c * p * p));
          }
        } else {
          bind(
              "where(" + x + " > " + arg("0.0") + ", " + x + ", " + sameShape(v).name() + ")",
              "f32",
              v.dims());
        }
      }
      case 17 -> {
        if (isInt(last) && val(last) >= 2) {
          int k = small(1, val(last));
          bind(
              "topk(" + x + ", " + arg("" + k) + ")." + (chance(2) ? "values" : "0"),
              "f32",
              with(v.dims(), r - 1, "" + k));
        } else {
          bind("pow(" + x + ", " + arg("2") + ")", "f32", v.dims());
        }
      }
      case 18 -> {
        String c = consts.isEmpty() ? "3" : consts.get(0);
        bind(
            "if " + c + " > " + arg("2") + " then " + x + " else relu(" + x + ")", "f32", v.dims());
      }
      case 19 -> {
        if (stdImported && isInt(last)) {
          String n = arg("" + small(1, 3));
          if (chance(2)) {
            String s = name("stack");
            out.append("  let ")
                .append(s)
                .append(" = repeat(")
                .append(n)
                .append(") Mlp(")
                .append(arg(last))
                .append(")\n");
            bind(x + " |> " + s, "f32", v.dims());
          } else {
            bind(x + " |> repeat(" + n + ") LayerNorm(" + arg(last) + ")", "f32", v.dims());
          }
        } else {
          bind(x + " - mean(" + x + ")", "f32", v.dims());
        }
      }
      case 20 -> {
        UserModule m = modules.isEmpty() ? null : modules.get(small(0, modules.size() - 1));
        if (m != null && isInt(last) && (!m.seq() || r == 3)) {
          String args =
              m.hypers() == 0 ? "" : m.hypers() == 1 ? arg(last) : arg(last) + ", " + arg("2");
          if (m.hypers() == 0) {
            bind(
                m.name() + "(" + x + ")." + pick(new String[] {"lo", "hi", "0", "1"}),
                "f32",
                v.dims());
          } else {
            bind(x + " |> " + m.name() + "(" + args + ")", "f32", v.dims());
          }
        } else if (blocksImported && isInt(last)) {
          bind(x + " |> Twice(" + arg(last) + ")", "f32", v.dims());
        } else if (r >= 3) {
          bind("cosine(" + x + ", " + x + ")", "f32", v.dims().subList(0, r - 1));
        } else {
          bind(x + " + " + x, "f32", v.dims());
        }
      }
      case 21 -> {
        if (isInt(last)) {
          String parts = pick(new String[] {"2", "[1, " + Math.max(0, val(last) - 1) + "]"});
          String n = name("parts");
          out.append("  let (")
              .append(n)
              .append("_a, ")
              .append(n)
              .append("_b) = split(")
              .append(x)
              .append(", ")
              .append(arg(parts))
              .append(")\n");
          int first = parts.equals("2") ? val(last) / 2 : 1;
          vars.add(new Var(n + "_a", "f32", with(v.dims(), r - 1, "" + first)));
        } else {
          bind("sigmoid(" + x + ")", "f32", v.dims());
        }
      }
      case 22 -> {
        String agg = pick(new String[] {"sum", "mean", "max", "min"});
        Var u = sameShape(v);
        bind(agg + "([" + x + ", " + u.name() + "])", "f32", v.dims());
      }
      case 23 -> {
        Var u = sameShape(v);
        bind(
            "weighted([" + x + ", " + u.name() + "], [" + arg("0.3") + ", " + arg("0.7") + "])",
            "f32",
            v.dims());
      }
      case 24 -> {
        // not implemented yet: each must give a located CM0401, never a crash
        String[] unsupported = {
          x + " |> fuse([" + x + "])",
          "route " + x + " to [" + x + "] by topk(1)",
          stdImported && isInt(last)
              ? "Linear(" + last + ", " + last + ") with lora(rank = 2) on \"*\""
              : "auto(" + x + ")",
          "frozen " + x
        };
        bind(pick(unsupported), "f32", v.dims());
      }
      default -> {
        if (r >= 3) {
          bind("argmax(" + x + ", " + arg("-1") + ")", "i64", v.dims().subList(0, r - 1));
        } else {
          bind(
              "cast(argmax(" + x + ", -1, keep = true), " + arg("f32") + ")",
              "f32",
              with(v.dims(), r - 1, "1"));
        }
      }
    }
  }

  private static String perm(int r) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < r; i++) {
      int p = i == r - 1 ? r - 2 : i == r - 2 ? r - 1 : i;
      sb.append(i > 0 ? ", " : "").append(p);
    }
    return sb.append(']').toString();
  }

  private static boolean allInt(List<String> dims, int from) {
    for (int i = from; i < dims.size(); i++) {
      if (!isInt(dims.get(i))) {
        return false;
      }
    }
    return true;
  }

  private static List<String> append(List<String> dims, String d) {
    List<String> out = new ArrayList<>(dims);
    out.add(d);
    return out;
  }

  private Var sameShape(Var v) {
    List<Var> same = new ArrayList<>();
    for (Var u : vars) {
      if (u.isFloat() && u.dims().equals(v.dims())) {
        same.add(u);
      }
    }
    return same.get(small(0, same.size() - 1));
  }

  private void output(String n) {
    Var v = vars.get(vars.size() - 1 - small(0, Math.min(2, vars.size() - 1)));
    out.append("  output ").append(n);
    if (chance(2)) {
      out.append(": ").append(v.dtype()).append('[');
      for (int i = 1; i < v.rank(); i++) {
        out.append(i > 1 ? ", " : "").append(arg(v.dims().get(i)));
      }
      out.append(']');
    }
    out.append(" = ").append(v.name()).append('\n');
  }

  /** Applies 0..n token-level mutations chosen by {@code in} to {@code text}. */
  static String mutate(FuzzedDataProvider in, String text) {
    List<String> toks = new ArrayList<>();
    Matcher m = TOKEN.matcher(text);
    while (m.find()) {
      toks.add(m.group());
    }
    int n = in.consumeInt(0, 4);
    for (int i = 0; i < n && !toks.isEmpty(); i++) {
      int at = in.consumeInt(0, toks.size() - 1);
      switch (in.consumeInt(0, 5)) {
        case 0 -> toks.remove(at);
        case 1 -> toks.add(at, toks.get(at));
        case 2 -> {
          int j =
              Math.min(
                  toks.size() - 1, at + 1 + (toks.size() > at + 2 && in.consumeBoolean() ? 1 : 0));
          String t = toks.get(at);
          toks.set(at, toks.get(j));
          toks.set(j, t);
        }
        case 3 -> toks.set(at, TOKENS[in.consumeInt(0, TOKENS.length - 1)]);
        case 4 ->
            toks.add(
                at,
                (in.consumeBoolean() ? " " : "")
                    + TOKENS[in.consumeInt(0, TOKENS.length - 1)]
                    + " ");
        default -> {
          // duplicate a whole run of tokens (a line, a block)
          int len = in.consumeInt(1, 40);
          int end = Math.min(toks.size(), at + len);
          toks.addAll(end, new ArrayList<>(toks.subList(at, end)));
        }
      }
    }
    return String.join("", toks);
  }
}
