package dev.cmod.compiler.sema;

import static dev.cmod.compiler.sema.Codecs.ArgKind.BOOL;
import static dev.cmod.compiler.sema.Codecs.ArgKind.FLOAT;
import static dev.cmod.compiler.sema.Codecs.ArgKind.INT;
import static dev.cmod.compiler.sema.Codecs.ArgKind.NUMBERS;
import static dev.cmod.compiler.sema.Codecs.ArgKind.SIZE;
import static dev.cmod.compiler.sema.Codecs.ArgKind.STRING;

import dev.cmod.compiler.ast.Ast.Arg;
import dev.cmod.compiler.ast.Ast.Codec;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.BoolV;
import dev.cmod.compiler.sema.Val.ErrorV;
import dev.cmod.compiler.sema.Val.FloatV;
import dev.cmod.compiler.sema.Val.IntV;
import dev.cmod.compiler.sema.Val.ListV;
import dev.cmod.compiler.sema.Val.StrV;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks the codecs a model declares with its inputs ({@code from image(...)}, {@code from
 * wav(...)}, {@code from tokenizer("t.json")}, {@code from chars("c.txt")}, {@code from
 * labels("l.txt")}) and outputs ({@code to labels(...)}, {@code to ctc(...)}, {@code to
 * tokenizer(...)}, {@code to chars(...)}, {@code to wav(...)}, {@code to png(...)}) against the
 * port's type, reads the files they name (counts checked against the declared sizes), and adds the
 * steps that belong in the graph (an image's scale and per-channel mean/std). The rest runs on the
 * host, in {@code cmod run} and the embedding API; {@link DataCodec} records both.
 */
final class Codecs {
  enum ArgKind {
    INT,
    FLOAT,
    STRING,
    BOOL,
    /** an integer or a list of two integers ([height, width]) */
    SIZE,
    /** a number or a list of numbers */
    NUMBERS
  }

  /** One argument a codec takes: its kind, default (null: absent unless given), allowed words. */
  record ArgSpec(String name, ArgKind kind, Object dflt, List<String> choices) {
    static ArgSpec of(String name, ArgKind kind) {
      return new ArgSpec(name, kind, null, List.of());
    }

    static ArgSpec of(String name, ArgKind kind, Object dflt) {
      return new ArgSpec(name, kind, dflt, List.of());
    }

    static ArgSpec choice(String name, String dflt, String... words) {
      return new ArgSpec(name, STRING, dflt, List.of(words));
    }
  }

  /** A codec: which ports it fits, whether it names a file first, its arguments. */
  record Spec(String kind, String fits, boolean file, List<ArgSpec> args) {}

  private static final List<Spec> INPUTS =
      List.of(
          new Spec(
              "image",
              "an Image input (f32[batch, C, H, W])",
              false,
              List.of(
                  ArgSpec.choice("order", "rgb", "rgb", "bgr"),
                  ArgSpec.of("resize", SIZE),
                  ArgSpec.of("height", INT),
                  ArgSpec.of("max_width", INT),
                  ArgSpec.choice(
                      "interpolation", "bilinear", "nearest", "bilinear", "bicubic", "lanczos"),
                  ArgSpec.of("crop", SIZE),
                  ArgSpec.of("pad_width", INT),
                  ArgSpec.of("pad_height", INT),
                  ArgSpec.of("pad_value", FLOAT, 0.0),
                  ArgSpec.of("scale", FLOAT, 1.0),
                  ArgSpec.of("mean", NUMBERS),
                  ArgSpec.of("std", NUMBERS))),
          new Spec(
              "wav",
              "an Audio input (f32[batch, T] or f32[batch, C, T])",
              false,
              List.of(
                  ArgSpec.of("rate", INT),
                  ArgSpec.of("mono", BOOL),
                  ArgSpec.choice("fit", "pad_or_trim", "pad_or_trim", "pad", "trim", "exact"),
                  ArgSpec.of("chunk", BOOL, false),
                  ArgSpec.of("hop", INT))),
          new Spec(
              "tokenizer",
              "a Text input (i64[batch, seq])",
              true,
              List.of(
                  ArgSpec.of("mask", STRING),
                  ArgSpec.of("type_ids", STRING),
                  ArgSpec.choice("padding", "longest", "longest", "bound"),
                  ArgSpec.of("strict", BOOL, false))),
          new Spec(
              "chars",
              "a Text input (i64[batch, seq])",
              true,
              List.of(
                  ArgSpec.of("unk", STRING),
                  ArgSpec.of("mask", STRING),
                  ArgSpec.choice("padding", "longest", "longest", "bound"),
                  ArgSpec.of("strict", BOOL, false))),
          new Spec("labels", "a Class input (Class[N])", true, List.of()));

  private static final List<Spec> OUTPUTS =
      List.of(
          new Spec(
              "labels",
              "an output of class scores (f32[..., N])",
              true,
              List.of(ArgSpec.of("top", INT, 5L))),
          new Spec(
              "ctc",
              "an output of per-step class scores (f32[batch, T, C])",
              true,
              List.of(ArgSpec.of("blank", INT, 0L), ArgSpec.of("space", BOOL, false))),
          new Spec("tokenizer", "an output of token ids (i64[batch, seq])", true, List.of()),
          new Spec("chars", "an output of token ids (i64[batch, seq])", true, List.of()),
          new Spec(
              "wav",
              "an audio output (f32[batch, T] or f32[batch, C, T])",
              false,
              List.of(ArgSpec.of("rate", INT))),
          new Spec(
              "png",
              "an image output (f32[batch, C, H, W], C = 1, 3 or 4)",
              false,
              List.of(ArgSpec.of("scale", FLOAT, 1.0))));

  /**
   * Every codec as an editor shows it: {@code from image(...)} or {@code to labels(...)} to what it
   * fits and the arguments it takes.
   */
  static java.util.Map<String, String> catalog() {
    java.util.Map<String, String> out = new LinkedHashMap<>();
    for (boolean input : new boolean[] {true, false}) {
      for (Spec s : input ? INPUTS : OUTPUTS) {
        List<String> a = new ArrayList<>();
        if (s.file()) {
          a.add("\"file\"");
        }
        s.args().forEach(x -> a.add(x.name()));
        out.put(
            (input ? "from " : "to ") + s.kind(),
            s.kind() + "(" + String.join(", ", a) + ") for " + s.fits());
      }
    }
    return out;
  }

  private final ElabContext el;
  private final CodecFiles files;

  Codecs(ElabContext el, CodecFiles files) {
    this.el = el;
    this.files = files;
  }

  /**
   * Checks an input's codec and records it; returns the value the model's body sees: the input
   * itself, or the input with the codec's graph steps applied.
   */
  Value input(Codec c, ModelFacts.Port port, Value v, Body body) {
    Spec spec = spec(INPUTS, c, "input", port);
    Map<String, Object> args = args(spec, c, body);
    TensorType t = port.type();
    List<String> graph = new ArrayList<>();
    List<String> host = new ArrayList<>();
    String sha = null;
    Value out = v;
    switch (spec.kind()) {
      case "image" -> {
        requireModality(c, port, "Image", spec);
        out = ImageCodec.check(el, c, t, args, v, graph, host);
      }
      case "wav" -> {
        requireModality(c, port, "Audio", spec);
        required(c, args, "rate", "the model's sample rate, e.g. wav(rate = 16000)");
        AudioCodec.check(el, c, t, args, host);
      }
      case "tokenizer", "chars" -> {
        requireModality(c, port, "Text", spec);
        CodecFiles.Read f = files.read(c, (String) args.get("file"), el);
        sha = f.sha256();
        long n = spec.kind().equals("tokenizer") ? f.tokenizerVocab(c, el) : f.lines().size();
        Long vocab = port.resolved().vocab();
        if (vocab != null && vocab != n) {
          el.fail(
              DiagnosticCode.CODEC,
              c.span(),
              (spec.kind().equals("tokenizer") ? "the tokenizer" : "the character list")
                  + " '"
                  + args.get("file")
                  + "' has "
                  + n
                  + " tokens, but input '"
                  + port.name()
                  + "' declares vocab "
                  + vocab,
              "declare vocab " + n + ", or name the tokenizer the model was trained with");
        }
        Dim seq = t.dim(t.rank() - 1);
        long bound = seq.isKnown() ? seq.value() : upperBound(el, seq);
        if (bound <= 0) {
          el.fail(
              DiagnosticCode.CODEC,
              c.span(),
              "a tokenized input needs a bound on its length, but '"
                  + port.name()
                  + "' is "
                  + port.describe(),
              "bound it: where " + seq + " <= 128");
        }
        args.put("bound", bound);
        host.add("read text");
        host.add(
            spec.kind().equals("tokenizer")
                ? "tokenize (Hugging Face tokenizer)"
                : "map characters to ids");
        host.add(
            "truncate to "
                + bound
                + " tokens ("
                + (Boolean.TRUE.equals(args.get("strict")) ? "an error" : "with a note")
                + "), pad to "
                + (seq.isKnown() || "bound".equals(args.get("padding")) ? bound : "the longest")
                + (args.containsKey("mask") ? "; attention mask to '" + args.get("mask") + "'" : "")
                + (args.containsKey("type_ids")
                    ? "; token type ids to '" + args.get("type_ids") + "'"
                    : ""));
      }
      default -> { // labels
        requireModality(c, port, "Class", spec);
        CodecFiles.Read f = files.read(c, (String) args.get("file"), el);
        sha = f.sha256();
        countMatches(c, f.labels(c, el).size(), port.resolved().vocab(), "labels", port);
        host.add("label to class index");
      }
    }
    el.facts().codecs.add(new DataCodec(port.name(), true, spec.kind(), args, graph, host, sha));
    return out;
  }

  /**
   * Checks an output's codec against the output's type and records it; the steps a serving engine
   * can run in the graph become extra outputs beside it (a CTC output's best class per step as
   * {@code NAME_ids}, class scores' top k as {@code NAME_top_scores} and {@code NAME_top_indices}).
   */
  void output(Codec c, ModelFacts.Port port, Value value, Body body) {
    Spec spec = spec(OUTPUTS, c, "output", port);
    Map<String, Object> args = args(spec, c, body);
    TensorType t = port.type();
    List<String> host = new ArrayList<>();
    List<String> graph = new ArrayList<>();
    String sha = null;
    switch (spec.kind()) {
      case "labels" -> {
        requireFloat(c, port, spec);
        CodecFiles.Read f = files.read(c, (String) args.get("file"), el);
        sha = f.sha256();
        Dim last = t.rank() == 0 ? null : t.dim(t.rank() - 1);
        countMatches(
            c,
            f.labels(c, el).size(),
            last != null && last.isKnown() ? last.value() : null,
            "labels",
            port);
        long top = (Long) args.get("top");
        if (top < 1) {
          el.fail(DiagnosticCode.CODEC, argSpan(c, "top"), "top must be at least 1", null);
        }
        if (last != null && last.isKnown()) {
          long k = Math.min(top, last.value());
          int axis = t.rank() - 1;
          Value p = el.node(Op.SOFTMAX, Attrs.of("axis", (long) axis), c.span(), value);
          dev.cmod.ir.graph.Node best =
              el.nodeMulti(Op.TOPK, Attrs.of("k", k, "axis", (long) axis), c.span(), p);
          extraOutput(c, port.name() + "_top_scores", best.out(0));
          extraOutput(c, port.name() + "_top_indices", best.out(1));
          graph.add(
              "softmax and top "
                  + k
                  + " over the last axis: outputs "
                  + port.name()
                  + "_top_scores, "
                  + port.name()
                  + "_top_indices");
        }
        host.add("softmax over the last axis, top " + args.get("top") + " labels (JSON)");
      }
      case "ctc" -> {
        requireFloat(c, port, spec);
        if (t.rank() < 2) {
          wrongType(c, port, spec);
        }
        CodecFiles.Read f = files.read(c, (String) args.get("file"), el);
        sha = f.sha256();
        long n = f.lines().size() + 1 + (Boolean.TRUE.equals(args.get("space")) ? 1 : 0);
        Dim last = t.dim(t.rank() - 1);
        if (last.isKnown() && last.value() != n) {
          el.fail(
              DiagnosticCode.CODEC,
              c.span(),
              "output '"
                  + port.name()
                  + "' has "
                  + last.value()
                  + " classes per step, but '"
                  + args.get("file")
                  + "' gives "
                  + n
                  + " (blank, "
                  + f.lines().size()
                  + " characters"
                  + (Boolean.TRUE.equals(args.get("space")) ? ", space)" : ")"),
              last.value() == n + 1 && !Boolean.TRUE.equals(args.get("space"))
                  ? "the model has one class more: add space = true"
                  : "name the character list the model was trained with");
        }
        Value ids =
            el.node(
                Op.ARGMAX, Attrs.of("axis", (long) (t.rank() - 1), "keep", false), c.span(), value);
        extraOutput(c, port.name() + "_ids", ids);
        graph.add("argmax per step: output " + port.name() + "_ids");
        host.add(
            "greedy CTC: argmax per step, collapse repeats, drop blank "
                + args.get("blank")
                + ", map to characters (text)");
      }
      case "tokenizer", "chars" -> {
        if (!isInteger(t.dtype())) {
          wrongType(c, port, spec);
        }
        CodecFiles.Read f = files.read(c, (String) args.get("file"), el);
        sha = f.sha256();
        host.add("token ids to text");
      }
      case "wav" -> {
        requireFloat(c, port, spec);
        long rate = (Long) required(c, args, "rate", "the sample rate to write, e.g. rate = 16000");
        AudioCodec.checkRate(el, c, rate);
        host.add("write WAV (16-bit PCM, " + rate + " Hz), one file per example");
      }
      default -> { // png
        requireFloat(c, port, spec);
        if (t.rank() != 4
            || !t.dim(1).isKnown()
            || !List.of(1L, 3L, 4L).contains(t.dim(1).value())) {
          wrongType(c, port, spec);
        }
        host.add(
            "write PNG (level round(v / "
                + args.get("scale")
                + " · 255) clamped to [0, 255]), one file per example");
      }
    }
    el.facts().codecs.add(new DataCodec(port.name(), false, spec.kind(), args, graph, host, sha));
  }

  /** One more graph output made by a codec; its name must be free. */
  private void extraOutput(Codec c, String name, Value v) {
    if (el.graph().outputs().containsKey(name) || el.facts().input(name) != null) {
      el.fail(
          DiagnosticCode.CODEC,
          c.kind().span(),
          "the codec adds an output '" + name + "', but the model already has that name",
          "rename the other output or input");
    }
    el.graph().setOutput(name, v);
    el.facts().outputs.add(new ModelFacts.Port(name, Modality.Resolved.plain(v.type()), c.span()));
  }

  /**
   * The links between inputs a text codec names ({@code mask = "attention_mask"}): each must be
   * another input of the model, of the text input's shape; called once every input is declared.
   */
  void checkLinks(Map<String, Codec> declared) {
    for (DataCodec d : List.copyOf(el.facts().codecs)) {
      Codec c = declared.get(d.port());
      if (!d.input() || c == null) {
        continue;
      }
      for (String key : List.of("mask", "type_ids")) {
        String other = d.string(key);
        if (other == null) {
          continue;
        }
        ModelFacts.Port p = el.facts().input(other);
        ModelFacts.Port self = el.facts().input(d.port());
        if (p == null || other.equals(d.port())) {
          el.diags()
              .error(
                  DiagnosticCode.CODEC,
                  argSpan(c, key),
                  key + " = \"" + other + "\" names no other input of the model",
                  "declare it: input " + other + ": i64[seq]");
        } else if (!p.type().dims().equals(self.type().dims())) {
          el.diags()
              .error(
                  DiagnosticCode.CODEC,
                  argSpan(c, key),
                  "input '"
                      + other
                      + "' ("
                      + p.type()
                      + ") must have the shape of '"
                      + d.port()
                      + "' ("
                      + self.type()
                      + ") to take its "
                      + key,
                  "declare it with the same dims as the text input");
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  private Spec spec(List<Spec> table, Codec c, String what, ModelFacts.Port port) {
    for (Spec s : table) {
      if (s.kind().equals(c.kind().text())) {
        return s;
      }
    }
    List<String> kinds = table.stream().map(Spec::kind).toList();
    el.fail(
        DiagnosticCode.CODEC,
        c.kind().span(),
        "unknown " + what + " codec '" + c.kind().text() + "' for '" + port.name() + "'",
        "an "
            + what
            + " is read "
            + (what.equals("input") ? "from " : "to ")
            + String.join(", ", kinds)
            + (Suggest.closest(c.kind().text(), kinds) != null
                ? "; did you mean " + Suggest.closest(c.kind().text(), kinds) + "?"
                : ""));
    return null;
  }

  /** Every argument with its default, values checked against the spec. */
  private Map<String, Object> args(Spec spec, Codec c, Body body) {
    Map<String, Object> given = new LinkedHashMap<>();
    boolean positional = false;
    for (Arg a : c.args()) {
      if (a.name() == null) {
        if (!spec.file() || positional || !given.isEmpty()) {
          el.fail(
              DiagnosticCode.CODEC,
              a.value().span(),
              spec.file()
                  ? "only the file comes first, without a name"
                  : spec.kind() + "(...) takes named arguments only",
              "write name = value");
        }
        positional = true;
        given.put("file", value(a, STRING, body));
        continue;
      }
      String n = a.name().text();
      ArgSpec as = spec.args().stream().filter(s -> s.name().equals(n)).findFirst().orElse(null);
      if (as == null) {
        List<String> names = spec.args().stream().map(ArgSpec::name).toList();
        String near = Suggest.closest(n, names);
        el.fail(
            DiagnosticCode.CODEC,
            a.name().span(),
            spec.kind() + "(...) has no argument '" + n + "'",
            (near != null ? "did you mean " + near + "? " : "")
                + (names.isEmpty()
                    ? "it takes only the file"
                    : "it takes " + String.join(", ", names)));
      }
      if (given.containsKey(n)) {
        el.fail(DiagnosticCode.CODEC, a.name().span(), "argument '" + n + "' is given twice", null);
      }
      Object v = value(a, as.kind(), body);
      if (!as.choices().isEmpty() && !as.choices().contains(v)) {
        el.fail(
            DiagnosticCode.CODEC,
            a.value().span(),
            n + " = \"" + v + "\" is not one of " + String.join(", ", as.choices()),
            null);
      }
      given.put(n, v);
    }
    if (spec.file() && !given.containsKey("file")) {
      el.fail(
          DiagnosticCode.CODEC,
          c.span(),
          spec.kind() + "(...) needs its file first",
          "for example "
              + spec.kind()
              + "(\""
              + (spec.kind().equals("tokenizer") ? "tokenizer.json" : spec.kind() + ".txt")
              + "\")");
    }
    Map<String, Object> all = new LinkedHashMap<>();
    if (spec.file()) {
      all.put("file", given.get("file"));
    }
    for (ArgSpec as : spec.args()) {
      Object v = given.containsKey(as.name()) ? given.get(as.name()) : as.dflt();
      if (v != null) {
        all.put(as.name(), v);
      }
    }
    return all;
  }

  private Object value(Arg a, ArgKind kind, Body body) {
    Val v = el.eval(a.value(), body, null);
    if (v instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    Span sp = a.value().span();
    String what = a.name() == null ? "the file" : "'" + a.name().text() + "'";
    switch (kind) {
      case STRING:
        if (v instanceof StrV s) {
          return s.value();
        }
        break;
      case BOOL:
        if (v instanceof BoolV b) {
          return b.value();
        }
        break;
      case INT:
        return el.intValue(v, sp, what);
      case FLOAT:
        return el.number(v, sp, what);
      case SIZE:
        if (v instanceof ListV l && l.items().size() == 2) {
          return List.of(
              el.intValue(l.items().get(0), sp, what), el.intValue(l.items().get(1), sp, what));
        }
        if (v instanceof IntV) {
          return el.intValue(v, sp, what);
        }
        break;
      default: // NUMBERS
        if (v instanceof ListV l && !l.items().isEmpty() && l.items().size() <= 64) {
          List<Double> r = new ArrayList<>();
          for (Val x : l.items()) {
            r.add(el.number(x, sp, what));
          }
          return r;
        }
        if (v instanceof IntV || v instanceof FloatV) {
          return el.number(v, sp, what);
        }
    }
    el.fail(
        DiagnosticCode.CODEC,
        sp,
        what
            + " must be "
            + switch (kind) {
              case STRING -> "a string";
              case BOOL -> "true or false";
              case SIZE -> "a size or [height, width]";
              default -> "a number or a list of numbers";
            }
            + ", got "
            + Val.describe(v),
        null);
    return null;
  }

  private Object required(Codec c, Map<String, Object> args, String name, String help) {
    Object v = args.get(name);
    if (v == null) {
      el.fail(DiagnosticCode.CODEC, c.span(), c.kind().text() + "(...) needs " + name, help);
    }
    return v;
  }

  private void requireModality(Codec c, ModelFacts.Port port, String modality, Spec spec) {
    if (!port.modality().equals(modality)) {
      wrongType(c, port, spec);
    }
  }

  private void requireFloat(Codec c, ModelFacts.Port port, Spec spec) {
    if (!port.type().dtype().isFloat()) {
      wrongType(c, port, spec);
    }
  }

  private void wrongType(Codec c, ModelFacts.Port port, Spec spec) {
    el.fail(
        DiagnosticCode.CODEC,
        c.kind().span(),
        spec.kind() + "(...) fits " + spec.fits() + "; '" + port.name() + "' is " + port.describe(),
        null);
  }

  private void countMatches(Codec c, long n, Long declared, String what, ModelFacts.Port port) {
    if (declared != null && declared != n) {
      el.fail(
          DiagnosticCode.CODEC,
          c.span(),
          "'" + port.name() + "' has " + declared + " classes, but the " + what + " file has " + n,
          "one label per line, in class order; the file and the declared size must agree");
    }
  }

  /** The finite where upper bound of a symbolic size {@code d} (a bare symbol), or -1. */
  static long upperBound(ElabContext el, Dim d) {
    if (d.isKnown()
        || d.symbols().size() != 1
        || !d.toString().equals(d.symbols().iterator().next())) {
      return -1;
    }
    long[] b = el.facts().bounds().get(d.toString());
    return b == null || b[1] == Long.MAX_VALUE ? -1 : b[1];
  }

  static boolean isInteger(DType d) {
    return !d.isFloat() && d != DType.BOOL;
  }

  static Span argSpan(Codec c, String name) {
    for (Arg a : c.args()) {
      if (a.name() != null && a.name().text().equals(name)) {
        return a.value().span();
      }
    }
    return c.span();
  }

  /** A constant of the per-channel values {@code [C, 1, 1]}, in the input's element type. */
  static Value perChannel(ElabContext el, double[] v, long channels, DType dt, Span sp) {
    float[] data = new float[(int) channels];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) v[v.length == 1 ? 0 : i];
    }
    return el.constant(Tensor.ofFloats(dt, new long[] {channels, 1, 1}, data), sp);
  }
}
