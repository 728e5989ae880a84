package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.ArithV;
import dev.cmod.compiler.sema.Val.ImportedV;
import dev.cmod.compiler.sema.Val.InstanceV;
import dev.cmod.compiler.sema.Val.StackV;
import dev.cmod.compiler.sema.Val.Term;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Parameter arithmetic {@code base + Σ cᵢ·bᵢ} (section 9), materialized at compile time: each
 * parameter of the new instance is the base's value plus the weighted deltas of the bundles, which
 * hold either a full delta at the relative path or a factor pair {@code path.lora_a}/{@code
 * path.lora_b}.
 */
final class ArithSpec {
  final String basePath;
  final String newPath;
  final List<Term> terms;
  private final Merges.Method merge;
  private final Set<String> used = new HashSet<>();
  private final List<String> relPaths = new ArrayList<>();

  ArithSpec(String basePath, String newPath, List<Term> terms, Merges.Method merge) {
    this.basePath = basePath;
    this.newPath = newPath;
    this.terms = terms;
    this.merge = merge;
  }

  boolean covers(String path) {
    return path.startsWith(newPath + ".");
  }

  /** The value of parameter {@code path} of the new instance. */
  Tensor materialize(
      String path, TensorType t, Supplier<Val> init, ElabContext el, Span span, Span initSpan) {
    String rel = path.substring(newPath.length() + 1);
    relPaths.add(rel);
    if (el.opts().weights().containsKey(path)) {
      // a weights file sets the result directly (e.g. from export-weights): the bundles were
      // applied already
      for (Term term : terms) {
        used.add(rel);
        used.add(rel + ".lora_a");
        used.add(rel + ".lora_b");
      }
      return el.params().paramValue(path, t, init, span, initSpan);
    }
    if (merge != null && merge.load() != null) {
      Tensor loaded = merge.load().value(rel, t, el);
      if (loaded != null) {
        return loaded;
      }
    }
    String basePathOfParam = basePath + "." + rel;
    Tensor base = null;
    for (Node n : el.graph().nodes()) {
      if (n.op() == Op.PARAM && n.attrs().getString("path").equals(basePathOfParam)) {
        base = n.attrs().getTensor("value");
      }
    }
    if (base == null) {
      base = el.params().paramValue(basePathOfParam, t, init, span, initSpan);
    }
    return combine(rel, base, t, basePathOfParam, el);
  }

  /** θ0 + the bundles' deltas (summed, or merged) for parameter {@code rel} whose value is θ0. */
  private Tensor combine(
      String rel, Tensor base, TensorType t, String basePathOfParam, ElabContext el) {
    if (!base.isFloat()) {
      return base;
    }
    float[] out = base.floats().clone();
    long[] shape = base.shape();
    List<double[]> deltas = new ArrayList<>();
    List<Double> coefs = new ArrayList<>();
    for (Term term : terms) {
      double[] d = delta(term, rel, shape, t, basePathOfParam, el);
      deltas.add(d);
      coefs.add(term.coef());
      if (merge == null && d != null) {
        for (int i = 0; i < out.length; i++) {
          out[i] += (float) (term.coef() * d[i]);
        }
      }
    }
    if (merge != null && merge.load() == null) {
      out = Merges.merge(merge, out, deltas, coefs, rel);
    }
    return Tensor.ofFloats(base.dtype(), shape, out);
  }

  /**
   * Bundle {@code term}'s task vector for parameter {@code rel}: its full delta, or the product of
   * its factor pair; null when it has neither.
   */
  private double[] delta(
      Term term, String rel, long[] shape, TensorType t, String basePathOfParam, ElabContext el) {
    Tensor full = term.bundle().tensors().get(rel);
    Tensor a = term.bundle().tensors().get(rel + ".lora_a");
    Tensor b = term.bundle().tensors().get(rel + ".lora_b");
    double[] d = null;
    if (full != null) {
      used.add(rel);
      if (!Arrays.equals(full.shape(), shape)) {
        el.fail(
            DiagnosticCode.WEIGHTS_SHAPE,
            term.span(),
            "'"
                + rel
                + "' in bundle "
                + term.bundle().name()
                + " has shape "
                + Arrays.toString(full.shape())
                + " but the parameter "
                + basePathOfParam
                + " is "
                + t,
            null);
      }
      d = new double[full.size()];
      for (int i = 0; i < d.length; i++) {
        d[i] = full.get(i);
      }
    }
    if (a != null || b != null) {
      used.add(rel + ".lora_a");
      used.add(rel + ".lora_b");
      if (a == null
          || b == null
          || shape.length != 2
          || a.rank() != 2
          || b.rank() != 2
          || a.shape()[0] != shape[0]
          || b.shape()[1] != shape[1]
          || a.shape()[1] != b.shape()[0]) {
        el.fail(
            DiagnosticCode.WEIGHTS_SHAPE,
            term.span(),
            "factors '"
                + rel
                + ".lora_a' "
                + (a == null ? "(missing)" : Arrays.toString(a.shape()))
                + " and '.lora_b' "
                + (b == null ? "(missing)" : Arrays.toString(b.shape()))
                + " in bundle "
                + term.bundle().name()
                + " do not multiply to the shape of "
                + basePathOfParam
                + " "
                + t,
            "lora_a is [in, r] and lora_b is [r, out]");
      }
      int in = (int) shape[0];
      int o = (int) shape[1];
      int r = (int) a.shape()[1];
      double[] ab = new double[in * o];
      for (int i = 0; i < in; i++) {
        for (int j = 0; j < o; j++) {
          double s = 0;
          for (int k = 0; k < r; k++) {
            s += a.get(i * r + k) * b.get(k * o + j);
          }
          ab[i * o + j] = s;
        }
      }
      if (d == null) {
        d = ab;
      } else {
        // a full delta and a factor pair for the same weight add up
        for (int i = 0; i < d.length; i++) {
          d[i] += ab[i];
        }
      }
    }
    return d;
  }

  /** After the first application: every bundle key must have named a parameter. */
  void checkUsed(ElabContext el) {
    if (merge != null && merge.load() != null) {
      merge.load().check(relPaths, el);
    }
    for (Term term : terms) {
      for (String k : term.bundle().tensors().keySet()) {
        if (!used.contains(k)) {
          List<String> near = new ArrayList<>(relPaths);
          near.sort(
              Comparator.comparingInt((String r) -> Suggest.distance(k, r)).thenComparing(r -> r));
          el.diags()
              .error(
                  DiagnosticCode.WEIGHTS_UNKNOWN_KEY,
                  term.span(),
                  "key '"
                      + k
                      + "' of bundle "
                      + term.bundle().name()
                      + " names no parameter of "
                      + basePath,
                  near.isEmpty()
                      ? null
                      : "closest parameters: "
                          + String.join(", ", near.subList(0, Math.min(3, near.size()))));
        }
      }
    }
  }

  /**
   * Applies an arithmetic instance ({@code let c = a + 0.5 * delta}, or a merge): its instance is
   * made on the first application, with this spec creating its parameters, and every bundle key is
   * checked to have named a parameter. A stack's arithmetic is a stack of new layers, {@code c.0},
   * {@code c.1}..., sharing one spec, so bundle keys are relative to the stack ({@code
   * 0.up.weight}).
   */
  static Val apply(ArithV av, Args args, Body caller, ElabContext el) {
    boolean first = av.made()[0] == null;
    ArithSpec spec = null;
    if (first) {
      if (av.base() instanceof InstanceV iv) {
        Instance base = iv.inst();
        String name = av.name() != null ? av.name() : base.def.name() + "_arith";
        String path = caller.child(name);
        Instance inst = new Instance(base.def, path, base.hyperEnv);
        inst.arith = new ArithSpec(base.path, path, av.terms(), av.merge());
        av.made()[0] = new InstanceV(inst);
        spec = inst.arith;
      } else if (av.base() instanceof ImportedV im) {
        return applyImported(im, av, args, caller, el);
      } else {
        List<Instance> layers = ((StackV) av.base()).layers();
        String first0 = layers.get(0).path;
        String basePath = first0.substring(0, Math.max(0, first0.lastIndexOf('.')));
        String name = av.name() != null ? av.name() : layers.get(0).def.name() + "_arith";
        String path = caller.child(name);
        spec = new ArithSpec(basePath, path, av.terms(), av.merge());
        List<Instance> made = new ArrayList<>();
        for (Instance layer : layers) {
          Instance inst =
              new Instance(
                  layer.def, path + layer.path.substring(basePath.length()), layer.hyperEnv);
          inst.arith = spec;
          made.add(inst);
        }
        av.made()[0] = new StackV(made);
      }
    }
    Val r = el.applyArgs(av.made()[0], args, caller);
    if (first) {
      int before = el.diags().errorCount();
      spec.checkUsed(el);
      if (el.diags().errorCount() > before) {
        throw ElabError.INSTANCE;
      }
    }
    return r;
  }

  /**
   * The first application of arithmetic over an imported model: the model is applied under the new
   * name (its weights become frozen parameters {@code <name>.<weight>}, shared by later
   * applications), and each of them is then set to θ0 + the bundles' deltas.
   */
  private static Val applyImported(
      ImportedV im, ArithV av, Args args, Body caller, ElabContext el) {
    String name = av.name() != null ? av.name() : im.name() + "_arith";
    String path = caller.child(name);
    ArithSpec spec = new ArithSpec(caller.child(im.name()), path, av.terms(), av.merge());
    av.made()[0] = new ImportedV(im.module(), name);
    Set<dev.cmod.ir.graph.Node> before =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    before.addAll(el.graph().nodes());
    Val r = el.applyArgs(av.made()[0], args, caller);
    for (Node n : new ArrayList<>(el.graph().nodes())) {
      String p = n.op() == Op.PARAM ? n.attrs().getString("path") : "";
      if (before.contains(n) || !p.startsWith(path + ".")) {
        continue;
      }
      String rel = p.substring(path.length() + 1);
      spec.relPaths.add(rel);
      Tensor merged =
          spec.combine(rel, n.attrs().getTensor("value"), n.type(), spec.basePath + "." + rel, el);
      el.graph().replaceLeaf(n, n.attrs().with("value", merged), n.type());
    }
    int errors = el.diags().errorCount();
    spec.checkUsed(el);
    if (el.diags().errorCount() > errors) {
      throw ElabError.INSTANCE;
    }
    return r;
  }
}
