package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code auto(inputs...)}: synthesizes an architecture from the inputs, the output type and the
 * compute budget, following seed 004: a fan-in encoder per input that reduces High-structure data
 * to at most a few hundred tokens (patches for images and video, strided frames for audio,
 * embeddings for text and classes), a straight transformer trunk over all tokens, and a decoder for
 * the output (a linear head on the pooled tokens; for images a small fan-out decoder that
 * upsamples). The result is ordinary cmod source, elaborated like any module, so its parameters
 * have ordinary paths and {@code cmod explain} can show it.
 */
final class AutoSynth {
  /** Trunk width, depth and heads. */
  record Size(int dim, int layers, int heads) {}

  /** Largest number of tokens one input's encoder produces. */
  static final long MAX_TOKENS = 256;

  private final ElabContext el;
  private final Span span;
  private final StringBuilder body = new StringBuilder();
  private final List<String> tokens = new ArrayList<>();
  private final List<String> params = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  /** Where each input's tokens start in the concatenated sequence, as cmod dim text. */
  private final List<String[]> segments = new ArrayList<>();

  private String offset = "0";
  private long tokenCount;
  private long encoderParams;

  AutoSynth(ElabContext el, Span span) {
    this.el = el;
    this.span = span;
  }

  /**
   * {@code output y: T = auto(a, b, ...)}: synthesizes the architecture (see {@link #source}) as
   * cmod source, elaborates it as the instance {@code auto_<output>} and applies it to the inputs.
   */
  static Val architecture(OutputItem out, Call c, Body body, ElabContext el) {
    String name = out.name().text();
    if (!(out.type() instanceof TensorTypeExpr te)) {
      return el.fail(
          DiagnosticCode.BAD_TYPE,
          out.span(),
          "auto needs the output's type, e.g. output " + name + ": Class[10] = auto(x)",
          null);
    }
    List<ModelFacts.Port> ports = new ArrayList<>();
    List<Val> args = new ArrayList<>();
    List<Span> spans = new ArrayList<>();
    for (Arg a : c.args()) {
      ModelFacts.Port p =
          a.value() instanceof NameRef n && a.name() == null ? el.facts().input(n.name()) : null;
      if (p == null) {
        return el.fail(
            DiagnosticCode.TYPE_MISMATCH,
            a.value().span(),
            "auto takes model inputs by name, e.g. auto(image, caption)",
            null);
      }
      if (p.resolved().batchAxis() != 0) {
        return el.fail(
            DiagnosticCode.UNSUPPORTED,
            a.value().span(),
            "auto needs inputs with the implicit leading batch; '" + p.name() + "' has none",
            "declare the input without 'exact' and without placing 'batch'");
      }
      ports.add(p);
      args.add(body.env.lookup(p.name()));
      spans.add(a.value().span());
    }
    if (ports.isEmpty()) {
      return el.fail(DiagnosticCode.ARITY, c.span(), "auto needs at least one input", null);
    }
    String head = te.head().text();
    TensorType outType;
    if (head.equals("Class")) {
      Val n =
          te.dims().size() == 1 && te.dims().get(0) instanceof ExprDim ed
              ? el.eval(ed.expr(), body, null)
              : null;
      outType =
          TensorType.of(DType.F32, 1, el.intValue(n, te.span(), "the number of classes"))
              .withDims(
                  List.of(
                      Dim.sym("batch"),
                      Dim.of(el.intValue(n, te.span(), "the number of classes"))));
    } else {
      Modality.Resolved r = Modality.resolve(te, out.exact(), el, new Env(body.env), true);
      if (r.batchAxis() != 0) {
        return el.fail(
            DiagnosticCode.UNSUPPORTED,
            out.type().span(),
            "auto synthesizes outputs with the implicit leading batch only",
            "declare the output without 'exact' and without placing 'batch'");
      }
      outType = r.type();
    }
    AutoSynth synth = new AutoSynth(el, c.span());
    String src =
        synth.source(
            ports,
            name,
            outType,
            Modality.shapeOf(head, te.dims().size()) != null ? head : "tensor",
            el.facts());
    dev.cmod.compiler.diag.SourceFile file =
        new dev.cmod.compiler.diag.SourceFile("auto:" + name, src);
    Loader loader = new Loader(el.diags(), Env.builtins(), el::evalConst);
    FileScope scope = loader.loadRoot(file, null);
    if (scope == null || !(scope.env.lookup("Auto") instanceof ModuleV m)) {
      return el.fail(
          DiagnosticCode.INTERNAL,
          c.span(),
          "auto produced an architecture that does not compile (a bug in cmod)",
          null);
    }
    el.facts().auto.put(name, new ModelFacts.Auto(synth.notes(), src));
    Instance inst =
        el.instantiate(
            m.def(),
            new Args(List.of(), List.of(), Map.of(), Map.of(), c.span()),
            "auto_" + name,
            body);
    return el.apply(inst, new Args(args, spans, Map.of(), Map.of(), c.span()), body, body.hooks);
  }

  /** Candidate sizes, largest first, starting at the compute preset. */
  static List<Size> candidates(String compute) {
    List<Size> all =
        List.of(
            new Size(512, 8, 8),
            new Size(256, 6, 8),
            new Size(256, 4, 8),
            new Size(128, 4, 4),
            new Size(128, 2, 4),
            new Size(64, 2, 4),
            new Size(32, 1, 2));
    int start =
        switch (compute == null ? "small" : compute) {
          case "large" -> 0;
          case "medium" -> 1;
          case "tiny" -> 5;
          default -> 3;
        };
    return all.subList(start, all.size());
  }

  /**
   * The module's source for {@code output name: type = auto(ports...)}: a module {@code Auto} with
   * one argument per port; returns null after reporting when it cannot be synthesized.
   */
  String source(
      List<ModelFacts.Port> ports,
      String outName,
      TensorType out,
      String outModality,
      ModelFacts facts) {
    Size size = null;
    for (Size s : candidates(facts.compute())) {
      size = s;
      if (fits(s, ports, out, facts)) {
        break;
      }
    }
    int d = size.dim();
    StringBuilder args = new StringBuilder();
    for (int i = 0; i < ports.size(); i++) {
      ModelFacts.Port p = ports.get(i);
      if (i > 0) {
        args.append(", ");
      }
      args.append(p.name()).append(": ").append(typeText(p.type()));
      encoder(p, d, facts);
    }
    body.append("  let trunk = repeat(")
        .append(size.layers())
        .append(") TransformerBlock(")
        .append(d)
        .append(", ")
        .append(size.heads())
        .append(")\n");
    body.append("  let norm = LayerNorm(").append(d).append(")\n");
    body.append("  let h = concat([")
        .append(String.join(", ", tokens))
        .append("], 1) |> trunk |> norm\n");
    body.append("  let pooled = mean(h, 1)\n");
    String result = decoder(out, outModality, d, ports);
    if (result == null) {
      return null;
    }
    body.append("  ").append(result).append('\n');
    notes.add(
        0,
        String.format(
            Locale.ROOT,
            "trunk: %d x TransformerBlock(%d, %d heads) over %d tokens",
            size.layers(),
            d,
            size.heads(),
            tokenCount));
    return "import std.nn.{Linear, Embedding, LayerNorm, TransformerBlock, PatchEmbed, Conv2d}\n"
        + "module Auto()("
        + args
        + ") {\n"
        + String.join("", params)
        + body
        + "}\n";
  }

  /** What was chosen, one line per decision (for cmod explain). */
  List<String> notes() {
    return notes;
  }

  private static String typeText(TensorType t) {
    StringBuilder sb = new StringBuilder(t.dtype().text).append('[');
    for (int i = 0; i < t.rank(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      Dim d = t.dim(i);
      sb.append(
          d.isKnown()
              ? Long.toString(d.value())
              : d.symbols().size() == 1 && d.toString().equals(d.symbols().iterator().next())
                  ? d.toString()
                  : "_");
    }
    return sb.append(']').toString();
  }

  private static long known(Dim d) {
    return d.isKnown() ? d.value() : -1;
  }

  private static long gcd(long a, long b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  /** The smallest divisor p of n with n / p <= limit, or -1. */
  private static long stride(long n, long limit) {
    for (long p = 1; p <= n; p++) {
      if (n % p == 0 && n / p <= limit) {
        return p;
      }
    }
    return -1;
  }

  /** A length for a symbolic sequence dim: its where bound. */
  private long bound(Dim s, ModelFacts facts, String input) {
    if (s.isKnown()) {
      return s.value();
    }
    long[] r = s.symbols().size() == 1 ? facts.bounds().get(s.toString()) : null;
    if (r == null || r[1] == Long.MAX_VALUE) {
      el.fail(
          DiagnosticCode.BOUND_VIOLATED,
          span,
          "auto needs an upper bound on the length of '" + input + "' (" + s + ")",
          "add a where clause, e.g. where " + s + " <= 256");
    }
    return r[1];
  }

  private void segment(String name, String len, long count) {
    segments.add(new String[] {name, offset, len});
    offset = offset.equals("0") ? len : offset + " + " + len;
    tokenCount += count;
  }

  private void encoder(ModelFacts.Port p, int d, ModelFacts facts) {
    String n = p.name();
    TensorType t = p.type();
    String m = p.modality();
    switch (m) {
      case "Image" -> {
        long c = known(t.dim(1));
        long h = known(t.dim(2));
        long w = known(t.dim(3));
        long g = h > 0 && w > 0 ? gcd(h, w) : -1;
        long patch = -1;
        for (long q = 1; g > 0 && q <= g; q++) {
          if (g % q == 0 && (h / q) * (w / q) <= MAX_TOKENS) {
            patch = q;
            break;
          }
        }
        if (c < 0 || patch < 0) {
          el.fail(
              DiagnosticCode.UNSUPPORTED,
              span,
              "auto cannot reduce image '"
                  + n
                  + "' "
                  + t
                  + " to at most "
                  + MAX_TOKENS
                  + " patches (it needs known sizes sharing a divisor)",
              null);
        }
        long count = (h / patch) * (w / patch);
        body.append("  let enc_")
            .append(n)
            .append(" = PatchEmbed(")
            .append(c)
            .append(", ")
            .append(patch)
            .append(", ")
            .append(d)
            .append(")\n");
        params.add("  param pos_" + n + ": f32[" + count + ", " + d + "] = init.normal(0.02)\n");
        tokens.add("enc_" + n + "(" + n + ") + pos_" + n);
        segment(n, Long.toString(count), count);
        encoderParams += c * patch * patch * d + count * d;
        notes.add(
            String.format(
                Locale.ROOT,
                "%s: %s -> %d patches of %dx%d (High -> Low)",
                n,
                p.describe(),
                count,
                patch,
                patch));
      }
      case "Audio" -> {
        boolean multi = t.rank() == 3;
        long c = multi ? known(t.dim(1)) : 1;
        long len = known(t.dim(t.rank() - 1));
        long f = len > 0 ? stride(len, MAX_TOKENS) : -1;
        if (c < 0 || f < 0) {
          el.fail(
              DiagnosticCode.UNSUPPORTED,
              span,
              "auto needs a known audio length for '" + n + "', got " + t,
              null);
        }
        long count = len / f;
        params.add(
            "  param frame_" + n + ": f32[" + d + ", " + c + ", " + f + "] = init.kaiming\n");
        params.add("  param pos_" + n + ": f32[" + count + ", " + d + "] = init.normal(0.02)\n");
        String x = multi ? n : "unsqueeze(" + n + ", 1)";
        tokens.add(
            "transpose(conv1d("
                + x
                + ", frame_"
                + n
                + ", stride = "
                + f
                + "), [0, 2, 1]) + pos_"
                + n);
        segment(n, Long.toString(count), count);
        encoderParams += d * c * f + count * d;
        notes.add(
            String.format(
                Locale.ROOT,
                "%s: %s -> %d frames of %d samples (strided convolution)",
                n,
                p.describe(),
                count,
                f));
      }
      case "Video" -> {
        long frames = known(t.dim(1));
        long c = known(t.dim(2));
        long h = known(t.dim(3));
        long w = known(t.dim(4));
        long g = h > 0 && w > 0 ? gcd(h, w) : -1;
        long patch = -1;
        for (long q = 1; g > 0 && frames > 0 && q <= g; q++) {
          if (g % q == 0 && frames * (h / q) * (w / q) <= 2 * MAX_TOKENS) {
            patch = q;
            break;
          }
        }
        if (c < 0 || patch < 0) {
          el.fail(
              DiagnosticCode.UNSUPPORTED,
              span,
              "auto cannot reduce video '"
                  + n
                  + "' "
                  + t
                  + " to at most "
                  + 2 * MAX_TOKENS
                  + " patches",
              null);
        }
        long count = frames * (h / patch) * (w / patch);
        long feat = c * patch * patch;
        body.append("  let enc_")
            .append(n)
            .append(" = Linear(")
            .append(feat)
            .append(", ")
            .append(d)
            .append(")\n");
        params.add("  param pos_" + n + ": f32[" + count + ", " + d + "] = init.normal(0.02)\n");
        tokens.add(
            "enc_"
                + n
                + "(reshape(patchify("
                + n
                + ", "
                + patch
                + "), [batch, "
                + count
                + ", "
                + feat
                + "])) + pos_"
                + n);
        segment(n, Long.toString(count), count);
        encoderParams += feat * d + count * d;
        notes.add(
            String.format(Locale.ROOT, "%s: %s -> %d space-time patches", n, p.describe(), count));
      }
      case "Text", "Seq" -> {
        Dim s = t.dim(1);
        long max = bound(s, facts, n);
        String len = s.isKnown() ? Long.toString(s.value()) : s.toString();
        boolean text = m.equals("Text");
        long vocab =
            text ? (p.resolved().vocab() == null ? -1 : p.resolved().vocab()) : known(t.dim(2));
        if (vocab < 0) {
          el.fail(
              DiagnosticCode.UNSUPPORTED,
              span,
              "auto needs a vocab for text '" + n + "' (Text[s] vocab N)",
              null);
        }
        body.append("  let enc_")
            .append(n)
            .append(" = ")
            .append(text ? "Embedding(" : "Linear(")
            .append(vocab)
            .append(", ")
            .append(d)
            .append(")\n");
        params.add("  param pos_" + n + ": f32[" + max + ", " + d + "] = init.normal(0.02)\n");
        tokens.add("enc_" + n + "(" + n + ") + slice(pos_" + n + ", 0, 0, " + len + ")");
        segment(n, len, max);
        encoderParams += vocab * d + max * d;
        notes.add(
            String.format(
                Locale.ROOT,
                "%s: %s -> up to %d tokens (%s)",
                n,
                p.describe(),
                max,
                text ? "embedding" : "linear"));
      }
      case "Class" -> {
        long classes = p.resolved().vocab() == null ? -1 : p.resolved().vocab();
        body.append("  let enc_")
            .append(n)
            .append(" = Embedding(")
            .append(classes)
            .append(", ")
            .append(d)
            .append(")\n");
        tokens.add("unsqueeze(enc_" + n + "(" + n + "), 1)");
        segment(n, "1", 1);
        encoderParams += classes * d;
        notes.add(String.format(Locale.ROOT, "%s: %s -> 1 token (embedding)", n, p.describe()));
      }
      default -> {
        if (t.rank() == 2 && t.dim(1).isKnown()) {
          body.append("  let enc_")
              .append(n)
              .append(" = Linear(")
              .append(t.dim(1).value())
              .append(", ")
              .append(d)
              .append(")\n");
          tokens.add("unsqueeze(enc_" + n + "(" + n + "), 1)");
          segment(n, "1", 1);
          encoderParams += t.dim(1).value() * d;
          notes.add(String.format(Locale.ROOT, "%s: %s -> 1 token (linear)", n, p.describe()));
        } else if (t.rank() == 3 && t.dim(2).isKnown()) {
          Dim s = t.dim(1);
          long max = bound(s, facts, n);
          String len = s.isKnown() ? Long.toString(s.value()) : s.toString();
          body.append("  let enc_")
              .append(n)
              .append(" = Linear(")
              .append(t.dim(2).value())
              .append(", ")
              .append(d)
              .append(")\n");
          params.add("  param pos_" + n + ": f32[" + max + ", " + d + "] = init.normal(0.02)\n");
          tokens.add("enc_" + n + "(" + n + ") + slice(pos_" + n + ", 0, 0, " + len + ")");
          segment(n, len, max);
          encoderParams += t.dim(2).value() * d + max * d;
          notes.add(
              String.format(
                  Locale.ROOT, "%s: %s -> up to %d tokens (linear)", n, p.describe(), max));
        } else {
          el.fail(
              DiagnosticCode.UNSUPPORTED,
              span,
              "auto cannot encode input '" + n + "' " + t,
              "use a modality type");
        }
      }
    }
  }

  private String decoder(TensorType out, String modality, int d, List<ModelFacts.Port> ports) {
    List<Dim> dims = out.dims().subList(1, out.rank());
    boolean allKnown = dims.stream().allMatch(Dim::isKnown);
    if (modality.equals("Image") && allKnown) {
      long c = dims.get(0).value();
      long h = dims.get(1).value();
      long w = dims.get(2).value();
      long g = gcd(h, w);
      long up = -1;
      for (long q = 1; q <= g; q++) {
        if (g % q == 0 && c * (h / q) * (w / q) <= 4096) {
          up = q;
          break;
        }
      }
      if (up < 0) {
        el.fail(DiagnosticCode.UNSUPPORTED, span, "auto cannot decode an image " + out, null);
      }
      long h0 = h / up;
      long w0 = w / up;
      body.append("  let seed = Linear(").append(d).append(", ").append(c * h0 * w0).append(")\n");
      body.append("  let refine = Conv2d(")
          .append(c)
          .append(", ")
          .append(c)
          .append(", 3, padding = 1)\n");
      notes.add(
          String.format(
              Locale.ROOT,
              "decoder: pooled tokens -> %dx%dx%d, upsampled x%d, 3x3 refine (Low -> High)",
              c,
              h0,
              w0,
              up));
      return "upsample(reshape(seed(pooled), [batch, "
          + c
          + ", "
          + h0
          + ", "
          + w0
          + "]), "
          + up
          + ") |> refine";
    }
    if (dims.size() == 1 && allKnown) {
      long n = dims.get(0).value();
      body.append("  let head = Linear(").append(d).append(", ").append(n).append(")\n");
      notes.add(String.format(Locale.ROOT, "decoder: mean of the tokens -> Linear(%d, %d)", d, n));
      return "head(pooled)";
    }
    if (dims.size() == 2 && dims.get(1).isKnown() && !dims.get(0).isKnown()) {
      // a sequence output as long as one input's sequence: read that input's tokens
      for (String[] seg : segments) {
        ModelFacts.Port p =
            ports.stream().filter(q -> q.name().equals(seg[0])).findFirst().orElse(null);
        if (p != null && p.type().rank() >= 2 && p.type().dim(1).equals(dims.get(0))) {
          long f = dims.get(1).value();
          body.append("  let head = Linear(").append(d).append(", ").append(f).append(")\n");
          notes.add(
              "decoder: the tokens of '"
                  + seg[0]
                  + "' -> Linear("
                  + d
                  + ", "
                  + f
                  + ") per position");
          return "slice(h, 1, " + seg[1] + ", " + seg[1] + " + " + seg[2] + ") |> head";
        }
      }
    }
    if (allKnown && !dims.isEmpty() && out.dtype().isFloat()) {
      long n = 1;
      StringBuilder shape = new StringBuilder("[batch");
      for (Dim x : dims) {
        n *= x.value();
        shape.append(", ").append(x.value());
      }
      body.append("  let head = Linear(").append(d).append(", ").append(n).append(")\n");
      notes.add(
          String.format(
              Locale.ROOT, "decoder: mean of the tokens -> Linear(%d, %d), reshaped", d, n));
      return "reshape(head(pooled), " + shape + "])";
    }
    el.fail(
        DiagnosticCode.UNSUPPORTED,
        span,
        "auto cannot produce an output of type "
            + out
            + (out.dtype().isFloat() ? "" : " (integer outputs such as Text are not synthesized)"),
        null);
    return null;
  }

  /** Whether a trunk of size s keeps the estimated parameters and FLOPs within the budget. */
  private static boolean fits(
      Size s, List<ModelFacts.Port> ports, TensorType out, ModelFacts facts) {
    long d = s.dim();
    long n = 0;
    long enc = 0;
    for (ModelFacts.Port p : ports) {
      long pos = Math.max(1, facts.positions(p));
      long cap =
          switch (p.modality()) {
            case "Image", "Audio" -> MAX_TOKENS;
            case "Video" -> 2 * MAX_TOKENS;
            default -> pos;
          };
      long tokens = Math.min(pos, cap);
      n += tokens;
      enc += tokens * d + 1024 * d;
    }
    long outN = 1;
    for (Dim x : out.dims().subList(1, out.rank())) {
      outN *= x.isKnown() ? Math.min(x.value(), 4096) : 1;
    }
    double trunk = s.layers() * (12.0 * d * d + 13 * d);
    double params = trunk + enc + d * outN;
    double flops = 2 * trunk * n + 4.0 * s.layers() * n * n * d + 2.0 * d * outN;
    ModelFacts.Limit pl = facts.budget().get("params");
    ModelFacts.Limit fl = facts.budget().get("flops");
    return (pl == null || params <= pl.value()) && (fl == null || flops <= fl.value());
  }
}
