package dev.cmod.compiler;

import dev.cmod.compiler.ast.Ast.ModelDecl;
import dev.cmod.compiler.ast.Ast.ModelItem;
import dev.cmod.compiler.ast.Ast.WeightsItem;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.pass.PassManager;
import dev.cmod.compiler.pass.Pipeline;
import dev.cmod.compiler.pass.StructureReduction;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.compiler.sema.Elaborator;
import dev.cmod.compiler.sema.FileScope;
import dev.cmod.compiler.sema.Loader;
import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.compiler.sema.Suggest;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Verifier;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.io.TensorFileException;
import dev.cmod.ir.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one entry point for the CLI, tests and the language server: source file to checked, optimized
 * IR graph, with every diagnostic collected.
 */
public final class Compilation {
  public static final String VERSION = "0.1.0";

  /** What a compilation produced; {@code graph} is null when there were errors. */
  public record Result(
      Diagnostics diagnostics, Graph graph, ModelFacts facts, List<String> models, String model) {
    public boolean ok() {
      return !diagnostics.hasErrors() && graph != null;
    }
  }

  private Compilation() {}

  /**
   * Gives the frozen weights of imported models (made by the importer, not by the elaborator's
   * parameter declarations) their values from the weights file, so that what {@code cmod
   * export-weights} writes reads back in full; a key of another dtype or shape is {@code CM0301}.
   */
  private static void bindImportedWeights(
      Graph g,
      java.util.Map<String, dev.cmod.ir.tensor.Tensor> weights,
      Set<String> unused,
      String weightsName,
      Diagnostics diags) {
    for (dev.cmod.ir.graph.Node n : List.copyOf(g.nodes())) {
      if (n.op() != dev.cmod.ir.graph.Op.PARAM || !unused.contains(n.attrs().getString("path"))) {
        continue;
      }
      String path = n.attrs().getString("path");
      unused.remove(path);
      dev.cmod.ir.tensor.Tensor have = n.attrs().getTensor("value");
      dev.cmod.ir.tensor.Tensor w = weights.get(path);
      if (w.dtype() != have.dtype() || !java.util.Arrays.equals(w.shape(), have.shape())) {
        diags.error(
            DiagnosticCode.WEIGHTS_SHAPE,
            null,
            "weights for '"
                + path
                + "' in "
                + weightsName
                + " are "
                + w.dtype()
                + java.util.Arrays.toString(w.shape())
                + ", the imported weight is "
                + have.dtype()
                + java.util.Arrays.toString(have.shape()));
        continue;
      }
      g.replaceLeaf(n, n.attrs().with("value", w), n.type());
    }
  }

  public static Result compile(Path file, CompileOptions o) {
    Diagnostics diags = new Diagnostics();
    String text = Loader.readSource(file, diags, null, DiagnosticCode.IMPORT_NOT_FOUND);
    if (text == null) {
      return new Result(diags, null, null, List.of(), null);
    }
    return compile(new SourceFile(displayName(file), text), file, o, diags);
  }

  public static Result compile(SourceFile source, Path path, CompileOptions o) {
    return compile(source, path, o, new Diagnostics());
  }

  /**
   * Compiles the requested model (the options' model, else the file's last) and, when it has no
   * errors and no model was named, every other model of the file with the same options. The
   * requested model's result comes first, the others follow in file order. The file is read once.
   */
  public static List<Result> compileAll(Path file, CompileOptions o) {
    Diagnostics diags = new Diagnostics();
    String text = Loader.readSource(file, diags, null, DiagnosticCode.IMPORT_NOT_FOUND);
    if (text == null) {
      return List.of(new Result(diags, null, null, List.of(), null));
    }
    return compileAll(new SourceFile(displayName(file), text), file, o);
  }

  /** As {@link #compileAll(Path, CompileOptions)}, for a source already in memory. */
  public static List<Result> compileAll(SourceFile source, Path path, CompileOptions o) {
    Result first = compile(source, path, o);
    List<Result> all = new ArrayList<>(List.of(first));
    if (o.model() == null && !first.diagnostics().hasErrors()) {
      for (String m : first.models()) {
        if (!m.equals(first.model())) {
          all.add(compile(source, path, o.withModel(m)));
        }
      }
    }
    return all;
  }

  /**
   * Runs the compiler on its own large-stack thread; a StackOverflowError or any unexpected
   * exception becomes a diagnostic, so callers never see a throwable for any input.
   */
  private static Result compile(SourceFile source, Path path, CompileOptions o, Diagnostics diags) {
    BigStack.Running<Result> run =
        BigStack.start("cmod-compile", () -> compileHere(source, path, o, diags));
    try {
      run.await(0);
    } catch (InterruptedException e) {
      // the caller gave up (a newer revision in the editor, a deadline): stop the compiler thread
      // too; the elaborator checks for the interrupt as it makes instances and nodes
      run.interrupt();
      Thread.currentThread().interrupt();
      Diagnostics cancelled = new Diagnostics();
      cancelled.error(
          DiagnosticCode.LIMIT,
          null,
          "the compilation of " + source.name() + " was cancelled",
          null);
      return new Result(cancelled, null, null, List.of(), null);
    }
    Throwable f = run.failure();
    if (f != null) {
      if (f instanceof StackOverflowError) {
        diags.error(
            DiagnosticCode.SOURCE_LIMIT,
            null,
            source.name() + " nests too deeply for the compiler",
            "split deep expressions with let bindings");
      } else if (f instanceof OutOfMemoryError) {
        diags.error(
            DiagnosticCode.LIMIT, null, "the compiler ran out of memory on " + source.name(), null);
      } else {
        diags.error(
            DiagnosticCode.INTERNAL,
            null,
            "internal compiler error: "
                + f
                + " (this is a bug in cmod, not in your program; please report it with the source file)");
        if (System.getenv("CMOD_DEBUG") != null) {
          f.printStackTrace();
        }
      }
      return new Result(diags, null, null, List.of(), null);
    }
    return run.value();
  }

  private static Result compileHere(
      SourceFile source, Path path, CompileOptions o, Diagnostics diags) {
    Map<String, Tensor> weights = new LinkedHashMap<>(o.weights());
    String weightsName = o.weightsName();
    if (o.weightsFile() != null) {
      weightsName = o.weightsFile().toString();
      if (!loadWeights(
          o.weightsFile(), null, weights, diags, dev.cmod.ir.io.SafeFiles.Policy.USER)) {
        return new Result(diags, null, null, List.of(), null);
      }
    }
    Elaborator constEval = new Elaborator(diags, CompileOptions.defaults());
    Loader loader =
        new Loader(diags, Elaborator.builtinEnv(), constEval::evalConst, o.onnxImports());
    FileScope root = loader.loadRoot(source, path);
    if (root == null) {
      return new Result(diags, null, null, List.of(), null);
    }
    List<String> names = root.models().stream().map(m -> m.name().text()).toList();
    ModelDecl model = pickModel(root, o.model(), diags);
    if (model == null || diags.hasErrors()) {
      return new Result(diags, null, null, names, null);
    }
    for (ModelItem it : model.items()) {
      if (it instanceof WeightsItem w) {
        Path base =
            path != null && path.toAbsolutePath().getParent() != null
                ? path.toAbsolutePath().getParent()
                : Path.of("");
        Path wp;
        try {
          wp = base.resolve(w.file()).normalize();
        } catch (java.nio.file.InvalidPathException e) {
          diags.error(
              DiagnosticCode.WEIGHTS_FILE,
              w.span(),
              "invalid path \""
                  + dev.cmod.compiler.diag.Excerpt.of(w.file(), 100)
                  + "\": "
                  + e.getReason(),
              "name a safetensors file relative to this file");
          return new Result(diags, null, null, names, model.name().text());
        }
        if (weightsName == null) {
          weightsName = w.file();
        }
        if (!loadWeights(wp, w.span(), weights, diags, dev.cmod.ir.io.SafeFiles.Policy.MODEL)) {
          return new Result(diags, null, null, names, model.name().text());
        }
      }
    }
    Elaborator el = new Elaborator(diags, o.toBuilder().weights(weights, weightsName).build());
    Graph g = el.elaborateModel(model, root);
    ModelFacts facts = el.facts();
    if (!weights.isEmpty()) {
      Set<String> unused = new java.util.LinkedHashSet<>(el.unusedWeightKeys());
      if (g != null) {
        bindImportedWeights(g, weights, unused, weightsName, diags);
      }
      List<String> paths = paramPaths(g);
      for (String k : unused) {
        String near = diags.saturated() ? null : Suggest.closest(k, paths);
        diags.error(
            DiagnosticCode.WEIGHTS_UNKNOWN_KEY,
            null,
            "key '"
                + dev.cmod.compiler.diag.Excerpt.of(k, 100)
                + "' in "
                + weightsName
                + " names no parameter of model "
                + model.name().text(),
            near != null
                ? "did you mean '" + near + "'?"
                : "cmod explain lists the parameter paths");
      }
      if (!facts.defaulted().isEmpty() && !diags.hasErrors()) {
        List<String> d = new ArrayList<>(facts.defaulted());
        diags.note(
            DiagnosticCode.WEIGHTS_DEFAULTED,
            null,
            d.size()
                + " parameter(s) not in "
                + weightsName
                + " keep their initializer: "
                + String.join(", ", d.size() > 12 ? d.subList(0, 12) : d)
                + (d.size() > 12 ? ", ..." : ""));
      }
    }
    if (!diags.hasErrors()) {
      reduceStructure(g, facts, diags);
      checkBudget(g, facts, model, diags);
      List<String> paths = paramPaths(g);
      for (ModelFacts.Port out : facts.outputs()) {
        if (facts.inputs().stream().anyMatch(i -> i.name().equals(out.name()))
            || paths.contains(out.name())) {
          diags.error(
              DiagnosticCode.DUPLICATE,
              out.span(),
              "output '" + out.name() + "' has the name of an input or parameter",
              "ONNX names inputs, outputs and initializers in one namespace: rename the output");
        }
      }
    }
    dev.cmod.ir.graph.AdapterInterface adapters =
        diags.hasErrors()
            ? null
            : RuntimeAdapters.apply(g, facts, o.adapters(), diags, model.name().span());
    if (diags.hasErrors()) {
      return new Result(diags, null, facts, names, model.name().text());
    }
    List<String> problems = Verifier.verify(g);
    if (!problems.isEmpty()) {
      diags.error(
          DiagnosticCode.INTERNAL,
          model.name().span(),
          "the IR failed verification: "
              + problems.get(0)
              + " (this is a bug in cmod; please report it with your source file)");
      return new Result(diags, null, facts, names, model.name().text());
    }
    // trainability describes the parameters as declared, before -O2 folds some of them together
    String trainableList = String.join(",", trainable(g, true));
    String frozenList = String.join(",", trainable(g, false));
    new PassManager(Pipeline.forLevel(o.optLevel()), o.passes()).run(g);
    g.metadata().put("cmod.version", VERSION);
    g.metadata().put("cmod.source", source.name());
    g.metadata().put("cmod.model", model.name().text());
    g.metadata().put("cmod.opt_level", Integer.toString(o.optLevel()));
    g.metadata().put("cmod.seed", Long.toString(o.seed()));
    g.metadata().put("cmod.trainable", trainableList);
    g.metadata().put("cmod.frozen", frozenList);
    for (dev.cmod.compiler.sema.DataCodec c : facts.codecs()) {
      g.metadata().put(c.metadataKey(), c.toJson());
    }
    if (adapters != null) {
      g.metadata().put(dev.cmod.ir.graph.AdapterInterface.METADATA_KEY, adapters.toJson());
    }
    return new Result(diags, g, facts, names, model.name().text());
  }

  /**
   * Structure reduction for the {@code tokens} budget (unless the budget is strict): each reduced
   * attention is a warning at the budget and a line of {@code cmod explain}.
   */
  private static void reduceStructure(Graph g, ModelFacts facts, Diagnostics diags) {
    ModelFacts.Limit tl = facts.budget().get("tokens");
    if (tl == null || facts.strictBudget()) {
      return;
    }
    long budget = (long) Math.floor(tl.value());
    if (tl.strict() && budget == tl.value()) {
      budget--; // tokens < 64 allows 63
    }
    for (StructureReduction.Reduction r : StructureReduction.apply(g, facts, budget)) {
      String where = r.attention().loc() != null ? " at " + r.attention().loc() : "";
      String line =
          "attention"
              + where
              + " over up to "
              + r.tokens()
              + " tokens: keys and values average-pooled in windows of "
              + r.window()
              + " to "
              + r.reduced()
              + " tokens (budget tokens "
              + (tl.strict() ? "< " : "<= ")
              + (long) tl.value()
              + ")";
      facts.reductions().add(line);
      diags.warning(DiagnosticCode.STRUCTURE_REDUCED, tl.span(), line);
    }
  }

  private static void checkBudget(Graph g, ModelFacts facts, ModelDecl model, Diagnostics diags) {
    long params = Cost.params(g).total();
    ModelFacts.Limit pl = facts.budget().get("params");
    if (pl == null && facts.compute() != null) {
      Long preset =
          switch (facts.compute()) {
            case "tiny" -> 1_000_000L;
            case "small" -> 10_000_000L;
            case "medium" -> 100_000_000L;
            case "large" -> 1_000_000_000L;
            default -> null;
          };
      if (preset == null) {
        diags.error(
            DiagnosticCode.BAD_TYPE,
            facts.computeSpan(),
            "unknown compute preset '" + facts.compute() + "'",
            "use tiny, small, medium or large");
        return;
      }
      pl = new ModelFacts.Limit(preset, false, facts.computeSpan());
    }
    if (pl != null && (pl.strict() ? params >= pl.value() : params > pl.value())) {
      diags.error(
          DiagnosticCode.BUDGET,
          pl.span(),
          "model "
              + model.name().text()
              + " has "
              + params
              + " parameters, over its budget of "
              + (long) pl.value(),
          "shrink the model or raise the budget");
    }
    ModelFacts.Limit tl = facts.budget().get("tokens");
    if (tl != null) {
      long tokens = Cost.attentionTokens(g, facts);
      if (tokens < 0) {
        diags.error(
            DiagnosticCode.BUDGET,
            tl.span(),
            "an attention in model "
                + model.name().text()
                + " runs over a sequence with no upper bound, so the token budget cannot hold",
            "bound the input's length with a where clause, e.g. where seq <= 256");
      } else if (tl.strict() ? tokens >= tl.value() : tokens > tl.value()) {
        diags.error(
            DiagnosticCode.BUDGET,
            tl.span(),
            "model "
                + model.name().text()
                + " attends over up to "
                + tokens
                + " tokens, over its budget of "
                + (long) tl.value(),
            facts.strictBudget()
                ? "reduce the sequence (patchify, pooling) before attention; a strict budget is"
                    + " never met by pooling keys and values for you"
                : "reduce the sequence (patchify, pooling) before attention (a causal or masked"
                    + " attention is not pooled for you)");
      }
    }
    ModelFacts.Limit fl = facts.budget().get("flops");
    if (fl != null) {
      double flops = Cost.flops(g, facts);
      if (fl.strict() ? flops >= fl.value() : flops > fl.value()) {
        diags.error(
            DiagnosticCode.BUDGET,
            fl.span(),
            String.format(
                java.util.Locale.ROOT,
                "model %s needs about %.3g FLOPs per sample, over its budget of %.3g",
                model.name().text(),
                flops,
                fl.value()),
            "shrink the model or raise the budget");
      }
    }
  }

  private static boolean loadWeights(
      Path p,
      Span at,
      Map<String, Tensor> into,
      Diagnostics diags,
      dev.cmod.ir.io.SafeFiles.Policy policy) {
    try {
      into.putAll(Safetensors.read(p, policy));
      return true;
    } catch (TensorFileException e) {
      diags.error(
          DiagnosticCode.WEIGHTS_FILE,
          at,
          e.getMessage().contains(p.getFileName().toString())
              ? e.getMessage()
              : p + ": " + e.getMessage());
    } catch (RuntimeException e) {
      diags.error(
          DiagnosticCode.WEIGHTS_FILE, at, "cannot read weights " + p + ": " + e.getMessage());
    }
    return false;
  }

  private static ModelDecl pickModel(FileScope root, String wanted, Diagnostics diags) {
    List<ModelDecl> models = root.models();
    if (models.isEmpty()) {
      diags.error(
          DiagnosticCode.NO_MODEL,
          null,
          root.source().name() + " declares no model",
          "add a model { input ...; output ... = ... } declaration");
      return null;
    }
    if (wanted == null) {
      return models.get(models.size() - 1);
    }
    for (ModelDecl m : models) {
      if (m.name().text().equals(wanted)) {
        return m;
      }
    }
    List<String> names = models.stream().map(m -> m.name().text()).toList();
    String near = Suggest.closest(wanted, names);
    diags.error(
        DiagnosticCode.NO_MODEL,
        null,
        "no model named '" + wanted + "' in " + root.source().name(),
        near != null ? "did you mean '" + near + "'?" : "models: " + String.join(", ", names));
    return null;
  }

  static List<String> paramPaths(Graph g) {
    List<String> out = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        out.add(n.attrs().getString("path"));
      }
    }
    return out;
  }

  private static List<String> trainable(Graph g, boolean want) {
    List<String> out = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM && n.attrs().getBool("trainable", true) == want) {
        out.add(n.attrs().getString("path"));
      }
    }
    out.sort(null);
    return out;
  }

  static String displayName(Path p) {
    Path cwd = Path.of("").toAbsolutePath();
    Path abs = p.toAbsolutePath().normalize();
    return abs.startsWith(cwd) ? cwd.relativize(abs).toString() : p.toString();
  }
}
