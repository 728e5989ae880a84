package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameter compositions ({@code base with lora(...) on "q"}, IA³, adapters, prefix and prompt
 * tuning, hypernetwork LoRA) and AdapterHub blocks ({@code stack}, {@code parallel}, {@code
 * average}, {@code fuse}, {@code split}). One job: turning a {@code with} expression into the
 * {@link Adaptation} rules of an adapted instance; the rules act when {@link Modules} applies it.
 */
final class Compositions {
  private final ElabContext el;

  Compositions(ElabContext el) {
    this.el = el;
  }

  Val with(With w, Body body, String bindName) {
    Val base = el.eval(w.base(), body, null);
    String comp = w.composition().text();
    if (comp.equals("weights")) {
      return loadWeights(w, base, body, bindName);
    }
    Value hyperEmb = null;
    if (w.from() != null) {
      if (!(w.from() instanceof Call hc)
          || !(hc.callee() instanceof NameRef hn)
          || !hn.name().equals("hyper")
          || hc.args().size() != 1
          || !comp.equals("lora")) {
        return el.fail(
            DiagnosticCode.UNSUPPORTED,
            w.from().span(),
            "only lora(...) ... from hyper(embedding) is supported",
            "write base with lora(rank = 4) on \"q\" from hyper(task_emb)");
      }
      hyperEmb =
          el.tensorOf(
              el.eval(hc.args().get(0).value(), body, null), hc.span(), "the hypernetwork's input");
      TensorType et = hyperEmb.type();
      if (et.rank() != 2 || !et.dim(1).isKnown() || !et.dtype().isFloat()) {
        return el.fail(
            DiagnosticCode.SHAPE_MISMATCH,
            hc.span(),
            "hyper(e) needs one float embedding per example, [batch, e] with e known; got " + et,
            "declare it as input e: Vector[E]");
      }
    }
    Val target;
    String basePath;
    List<Adaptation> rules = new ArrayList<>();
    if (base instanceof InstanceV i) {
      target = base;
      basePath = i.inst().path;
    } else if (base instanceof StackV st) {
      target = base;
      String first = st.layers().get(0).path;
      basePath = first.substring(0, Math.max(0, first.lastIndexOf('.')));
    } else if (base instanceof ImportedV im) {
      target = base;
      basePath = body.child(im.name());
    } else if (base instanceof AdaptedV a) {
      target = a.target();
      basePath = a.basePath();
      rules.addAll(a.rules());
    } else if (base instanceof ErrorV) {
      throw ElabError.INSTANCE;
    } else {
      return el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          w.base().span(),
          "'with' composes a module instance, not " + Val.describe(base),
          "bind the instance first: let base = Mlp(64)");
    }
    if (comp.equals("stack")
        || comp.equals("parallel")
        || comp.equals("average")
        || comp.equals("fuse")
        || comp.equals("split")) {
      return adapterBlock(w, comp, target, basePath, rules, body);
    }
    Adaptation.Kind kind =
        switch (comp) {
          case "lora" -> Adaptation.Kind.LORA;
          case "ia3" -> Adaptation.Kind.IA3;
          case "adapter" -> Adaptation.Kind.ADAPTER;
          case "prefix" -> Adaptation.Kind.PREFIX;
          case "prompt" -> Adaptation.Kind.PROMPT;
          default -> null;
        };
    if (kind == null) {
      return el.fail(
          DiagnosticCode.UNSUPPORTED,
          w.composition().span(),
          "'with " + comp + "' is not supported by this version of cmod yet",
          "implemented: lora(rank, alpha), ia3, adapter(bottleneck, at), prefix(length),"
              + " prompt(length); see docs/language.md");
    }
    List<String> order =
        switch (kind) {
          case LORA -> List.of("rank", "alpha");
          case ADAPTER -> List.of("bottleneck", "at", "name");
          case PREFIX, PROMPT -> List.of("length");
          default -> List.of();
        };
    List<String> names = new ArrayList<>(order);
    if (kind == Adaptation.Kind.LORA || kind == Adaptation.Kind.IA3) {
      names.addAll(List.of("from", "map"));
    }
    Map<String, Val> named = new LinkedHashMap<>();
    Map<String, Span> argSpans = new LinkedHashMap<>();
    int pos = 0;
    for (Arg a : w.args()) {
      String k = a.name() != null ? a.name().text() : pos < order.size() ? order.get(pos++) : null;
      if (k != null) {
        argSpans.put(k, a.value().span());
      }
      if (k == null || !names.contains(k)) {
        el.fail(
            DiagnosticCode.UNKNOWN_ARGUMENT,
            a.name() != null ? a.name().span() : a.value().span(),
            comp
                + (k == null
                    ? " takes " + order.size() + " arguments"
                    : " has no parameter '" + k + "'"),
            "expected " + comp + "(" + String.join(", ", names) + ")");
      }
      if (k.equals("at") && a.value() instanceof NameRef nr) {
        named.put(k, new StrV(nr.name()));
      } else {
        named.put(k, el.eval(a.value(), body, null));
      }
    }
    if (named.containsKey("from") || named.containsKey("map")) {
      return fromCheckpoint(w, kind, named, argSpans, target, basePath, rules);
    }
    long rank = 0;
    double alpha = 0;
    String at = "after";
    String adapterName = "adapter";
    if (kind == Adaptation.Kind.LORA) {
      if (!named.containsKey("rank")) {
        el.fail(
            DiagnosticCode.ARITY,
            w.composition().span(),
            "lora needs a rank: lora(rank = 8, alpha = 16)",
            null);
      }
      rank = el.intValue(named.get("rank"), w.composition().span(), "lora rank");
      alpha =
          named.containsKey("alpha")
              ? el.number(named.get("alpha"), w.composition().span(), "lora alpha")
              : rank;
    } else if (kind == Adaptation.Kind.ADAPTER) {
      if (!named.containsKey("bottleneck")) {
        el.fail(
            DiagnosticCode.ARITY,
            w.composition().span(),
            "adapter needs a bottleneck size: adapter(bottleneck = 64, at = after)",
            null);
      }
      rank = el.intValue(named.get("bottleneck"), w.composition().span(), "adapter bottleneck");
      if (named.containsKey("at")) {
        if (!(named.get("at") instanceof StrV sv)
            || !(sv.value().equals("after") || sv.value().equals("parallel"))) {
          Span atSpan = w.composition().span();
          for (Arg a : w.args()) {
            if (a.name() != null && a.name().text().equals("at")) {
              atSpan = a.value().span();
            }
          }
          el.fail(
              DiagnosticCode.UNKNOWN_ARGUMENT,
              atSpan,
              "adapter placement must be at = after or at = parallel, got "
                  + (named.get("at") instanceof StrV bad
                      ? "'" + bad.value() + "'"
                      : Val.describe(named.get("at"))),
              null);
        }
        at = ((StrV) named.get("at")).value();
      }
      if (named.containsKey("name")) {
        if (!(named.get("name") instanceof StrV nv)
            || !nv.value().matches("[A-Za-z_][A-Za-z0-9_]*")) {
          el.fail(
              DiagnosticCode.TYPE_MISMATCH,
              w.composition().span(),
              "adapter name must be a plain name in quotes, e.g. name = \"lang_de\"",
              null);
        }
        adapterName = ((StrV) named.get("name")).value();
      }
    } else if (kind == Adaptation.Kind.PREFIX || kind == Adaptation.Kind.PROMPT) {
      if (!named.containsKey("length")) {
        el.fail(
            DiagnosticCode.ARITY,
            w.composition().span(),
            comp + " needs a length: " + comp + "(length = 16)",
            null);
      }
      rank = el.intValue(named.get("length"), w.composition().span(), comp + " length");
    }
    if (kind != Adaptation.Kind.IA3 && rank < 1) {
      el.fail(
          DiagnosticCode.BAD_DIM,
          w.composition().span(),
          comp + " needs a size of at least 1",
          null);
    }
    if (kind == Adaptation.Kind.PROMPT) {
      if (!w.targets().isEmpty()) {
        el.fail(
            DiagnosticCode.ARITY,
            w.targets().get(0).span(),
            "prompt prepends tokens to the adapted instance's input; it takes no targets",
            null);
      }
      Adaptation pr =
          new Adaptation(
              kind, rank, 0, basePath, TypeMatch.text(w.base()), List.of(), List.of(), true);
      rules.add(pr);
      return new AdaptedV(target, basePath, List.copyOf(rules), new boolean[1]);
    }
    if (w.targets().isEmpty()) {
      el.fail(
          DiagnosticCode.ARITY,
          w.span(),
          comp + " needs targets: with " + comp + "(...) on \"q\", \"v\"",
          null);
    }
    List<String> pats = new ArrayList<>();
    List<Span> spans = new ArrayList<>();
    for (Expr t : w.targets()) {
      Val v = el.eval(t, body, null);
      if (!(v instanceof StrV sv)) {
        return el.fail(
            DiagnosticCode.TYPE_MISMATCH,
            t.span(),
            "a target is a quoted path pattern such as \"*.attn.q\"",
            null);
      }
      pats.add(sv.value());
      spans.add(t.span());
    }
    Adaptation rule =
        new Adaptation(kind, rank, alpha, basePath, TypeMatch.text(w.base()), pats, spans, true);
    rule.at = at;
    rule.hyperEmb = hyperEmb;
    rule.adapterName = adapterName;
    rules.add(rule);
    return new AdaptedV(target, basePath, List.copyOf(rules), new boolean[1]);
  }

  /**
   * {@code base with weights(from = hf, map = [...], skip = [...])}: a new instance (or stack) like
   * the base whose parameters come from a Hugging Face checkpoint ({@link HfLoad}).
   */
  private Val loadWeights(With w, Val base, Body body, String bindName) {
    if (!(base instanceof InstanceV || base instanceof StackV)) {
      return el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          w.base().span(),
          "with weights(...) loads a module instance or a repeat stack, not " + Val.describe(base),
          null);
    }
    if (!w.targets().isEmpty() || w.from() != null) {
      return el.fail(
          DiagnosticCode.ARITY,
          w.span(),
          "with weights(...) takes no targets: the key map says where each tensor goes",
          null);
    }
    Map<String, Val> named = new LinkedHashMap<>();
    Map<String, Span> spans = new LinkedHashMap<>();
    for (Arg a : w.args()) {
      if (a.name() == null || !List.of("from", "map", "skip").contains(a.name().text())) {
        return el.fail(
            DiagnosticCode.UNKNOWN_ARGUMENT,
            a.name() != null ? a.name().span() : a.value().span(),
            "weights(...) takes from = bundle, map = [...] and skip = [...]",
            "write with weights(from = hf, map = [[\"encoder.layer.*.attention.self.query\","
                + " \"layers.*.attn.q\"]])");
      }
      named.put(a.name().text(), el.eval(a.value(), body, null));
      spans.put(a.name().text(), a.value().span());
    }
    if (!(named.get("from") instanceof BundleV bundle)) {
      return el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          spans.getOrDefault("from", w.composition().span()),
          "weights(from = ...) takes a checkpoint from import weights \"model.safetensors\" as hf",
          null);
    }
    List<java.util.regex.Pattern> skip = new ArrayList<>();
    if (named.containsKey("skip")) {
      if (!(named.get("skip") instanceof ListV sl)
          || !sl.items().stream().allMatch(v -> v instanceof StrV)) {
        return el.fail(
            DiagnosticCode.KEY_MAP,
            spans.get("skip"),
            "skip is a list of key patterns, e.g. skip = [\"pooler.*\"]",
            null);
      }
      sl.items().forEach(v -> skip.add(Adaptation.glob(((StrV) v).value())));
    }
    KeyMap map =
        KeyMap.of(named.get("map"), spans.get("map"), HfLoad.names(bundle), spans.get("from"), el);
    HfLoad load = new HfLoad(bundle, map, skip, spans.get("from"));
    return new ArithV(
        base, List.of(), bindName, new Val[1], new Merges.Method("load", 1, 0, 0, 1, load));
  }

  /**
   * {@code base with lora(from = style, map = [...])} (or {@code ia3(from = ...)}): a composition
   * whose factors and scaling come from a PEFT checkpoint, placed by a {@link KeyMap}.
   */
  private Val fromCheckpoint(
      With w,
      Adaptation.Kind kind,
      Map<String, Val> named,
      Map<String, Span> argSpans,
      Val target,
      String basePath,
      List<Adaptation> rules) {
    String comp = w.composition().text();
    if (!(named.get("from") instanceof PeftV peft)) {
      return el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          argSpans.getOrDefault("from", w.composition().span()),
          comp
              + "(from = ...) takes a PEFT adapter, got "
              + (named.containsKey("from") ? Val.describe(named.get("from")) : "nothing"),
          "import weights \"adapter/\" as style (a folder with adapter_config.json), then "
              + comp
              + "(from = style)");
    }
    String method = kind == Adaptation.Kind.LORA ? "lora" : "ia3";
    if (!peft.checkpoint().kind().equals(method)) {
      return el.fail(
          DiagnosticCode.PEFT_CHECKPOINT,
          argSpans.get("from"),
          peft.name() + " is a PEFT " + peft.checkpoint().kind() + " adapter, not " + method,
          "write " + peft.checkpoint().kind() + "(from = " + peft.name() + ")");
    }
    for (String k : List.of("rank", "alpha")) {
      if (named.containsKey(k)) {
        return el.fail(
            DiagnosticCode.UNKNOWN_ARGUMENT,
            argSpans.get(k),
            comp + "(from = ...) takes its " + k + " from the adapter's config",
            "drop " + k + " = ...");
      }
    }
    if (!w.targets().isEmpty() || w.from() != null) {
      return el.fail(
          DiagnosticCode.ARITY,
          w.targets().isEmpty() ? w.from().span() : w.targets().get(0).span(),
          comp + "(from = ...) adapts the layers the adapter names; it takes no targets",
          "map checkpoint modules to layers with map = [[\"hf.module\", \"cmod.path\"]]");
    }
    KeyMap map =
        KeyMap.of(
            named.get("map"),
            argSpans.get("map"),
            peft.checkpoint().modules().keySet(),
            argSpans.get("from"),
            el);
    Adaptation rule =
        new Adaptation(
            kind,
            peft.checkpoint().rank(),
            0,
            basePath,
            TypeMatch.text(w.base()),
            List.of(),
            List.of(),
            true);
    rule.peft = new PeftRule(peft.checkpoint(), map, peft.name(), argSpans.get("from"));
    List<Adaptation> out = new ArrayList<>(rules);
    out.add(rule);
    return new AdaptedV(target, basePath, List.copyOf(out), new boolean[1]);
  }

  /**
   * AdapterHub blocks over compositions of the same base: {@code stack(a, b)} applies a's and then
   * b's compositions; {@code parallel(a, b)} / {@code average(a, b)} add the sum / mean of the
   * member adapters' contributions at each targeted instance.
   */
  private Val adapterBlock(
      With w, String comp, Val target, String basePath, List<Adaptation> rules, Body body) {
    if (!w.targets().isEmpty() || w.from() != null) {
      return el.fail(
          DiagnosticCode.ARITY,
          w.span(),
          comp + "(...) takes compositions of the base, not targets",
          null);
    }
    if (w.args().size() < 1) {
      return el.fail(
          DiagnosticCode.ARITY,
          w.composition().span(),
          comp + " needs compositions: " + comp + "(lang_de, task_ner)",
          null);
    }
    List<Adaptation> members = new ArrayList<>();
    long splitAt = -1;
    for (Arg a : w.args()) {
      if (a.name() != null) {
        if (!comp.equals("split") || !a.name().text().equals("at")) {
          return el.fail(
              DiagnosticCode.UNKNOWN_ARGUMENT,
              a.name().span(),
              comp + " has no parameter '" + a.name().text() + "'",
              comp.equals("split") ? "split(a, b, at = n)" : null);
        }
        splitAt = el.intValue(el.eval(a.value(), body, null), a.value().span(), "split position");
        continue;
      }
      Val v = el.eval(a.value(), body, null);
      if (!(v instanceof AdaptedV av) || !av.basePath().equals(basePath)) {
        return el.fail(
            DiagnosticCode.TYPE_MISMATCH,
            a.value().span(),
            comp
                + " takes compositions of the same base ('"
                + basePath
                + "'), such as base with adapter(...) on \"*.ffn\"; got "
                + Val.describe(v),
            null);
      }
      for (Adaptation r : av.rules()) {
        if (!members.contains(r) && !rules.contains(r)) {
          members.add(r);
        }
      }
    }
    List<Adaptation> out = new ArrayList<>(rules);
    if (comp.equals("stack")) {
      out.addAll(members);
    } else {
      for (int i = 0; i < members.size(); i++) {
        if (members.get(i).kind != Adaptation.Kind.ADAPTER) {
          return el.fail(
              DiagnosticCode.TYPE_MISMATCH,
              w.args().get(Math.min(i, w.args().size() - 1)).value().span(),
              comp + " combines adapters; use stack for other compositions",
              null);
        }
      }
      Adaptation group =
          new Adaptation(
              Adaptation.Kind.GROUP,
              0,
              0,
              basePath,
              TypeMatch.text(w.base()),
              List.of(),
              List.of(),
              true);
      group.members = members;
      group.at = comp;
      if (comp.equals("split")) {
        if (members.size() != 2 || splitAt < 0) {
          return el.fail(
              DiagnosticCode.ARITY,
              w.composition().span(),
              "split takes two adapters and a position: split(a, b, at = n)",
              null);
        }
        group.rank = splitAt;
      }
      out.add(group);
    }
    return new AdaptedV(target, basePath, List.copyOf(out), new boolean[1]);
  }
}
