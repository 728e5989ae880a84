package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.Call;
import dev.cmod.compiler.ast.Ast.Expr;
import dev.cmod.compiler.ast.Ast.ModelDecl;
import dev.cmod.compiler.ast.Ast.Stmt;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.ModuleDef;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.graph.ShapeInference;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayDeque;
import java.util.List;

/**
 * One elaboration's state (the graph, the facts, the diagnostics) and the wiring of its parts: the
 * only implementation of {@link ElabContext}. It builds nodes and reports errors itself and hands
 * every other service to the part that owns it, so no part reaches another except through the
 * interface.
 */
final class ElabSession implements ElabContext {
  private final Diagnostics diags;
  private final CompileOptions opts;
  private final ModelFacts facts = new ModelFacts();
  private Graph graph;

  /** The file of the model being elaborated (errors in other files get an "applied here" note). */
  private SourceFile rootFile;

  /** Where the module applications in progress were written, outermost first. */
  private final ArrayDeque<Span> applySites = new ArrayDeque<>();

  private final Params params;
  private final Modules modules;
  private final Routing routing;
  private final Evaluator evaluator;
  private final ModelHeader header;

  ElabSession(Diagnostics diags, CompileOptions opts) {
    this.diags = diags;
    this.opts = opts;
    this.params = new Params(this);
    this.modules = new Modules(this, applySites);
    this.routing = new Routing(this);
    this.evaluator = new Evaluator(this, modules, routing, new Compositions(this), params);
    this.header = new ModelHeader(this);
  }

  /** Elaborates one model into a fresh graph. */
  Graph elaborateModel(ModelDecl model, FileScope scope) {
    graph = new Graph(model.name().text());
    rootFile = scope.source();
    Graph g = header.elaborate(model, scope);
    if (g != null) {
      params.pruneUnusedStacked(g);
    }
    return g;
  }

  @Override
  public Diagnostics diags() {
    return diags;
  }

  @Override
  public CompileOptions opts() {
    return opts;
  }

  @Override
  public Graph graph() {
    return graph;
  }

  @Override
  public ModelFacts facts() {
    return facts;
  }

  @Override
  public Params params() {
    return params;
  }

  /** Reports an error and unwinds the current expression. */
  @Override
  public Val fail(DiagnosticCode code, Span span, String message, String help) {
    diags.error(code, span, message, help);
    if (span != null && rootFile != null && span.file() != rootFile) {
      // the error is inside a library module: point at the user's code that led there
      Span site = null;
      for (Span sp : applySites) {
        if (sp.file() == rootFile) {
          site = sp;
        }
      }
      if (site != null) {
        diags.note(DiagnosticCode.CONTEXT, site, "in the module applied here");
      }
    }
    throw ElabError.INSTANCE;
  }

  @Override
  public Node nodeMulti(Op op, Attrs attrs, Span span, Value... operands) {
    if (Thread.currentThread().isInterrupted()) {
      fail(DiagnosticCode.LIMIT, span, "the compilation was cancelled", null);
    }
    if (graph.nodeCount() > Limits.MAX_NODES) {
      fail(
          DiagnosticCode.LIMIT,
          span,
          "the model's graph would exceed " + Limits.MAX_NODES + " operations",
          "use fewer or smaller repeats");
    }
    try {
      return graph.add(op, attrs, List.of(operands), span.toLoc());
    } catch (ShapeException e) {
      return shapeError(e, span);
    }
  }

  @Override
  public List<TensorType> infer(Op op, Attrs attrs, Span span, TensorType... operands) {
    try {
      return ShapeInference.infer(op, attrs, List.of(operands));
    } catch (ShapeException e) {
      return shapeError(e, span);
    }
  }

  /** A violated shape rule as a located diagnostic (always throws {@link ElabError}). */
  private <T> T shapeError(ShapeException e, Span span) {
    String m = e.getMessage();
    DiagnosticCode code =
        m.contains("element types")
                || m.contains("floating-point")
                || m.contains("must be bool")
                || m.contains("must be integers")
            ? DiagnosticCode.TYPE_MISMATCH
            : DiagnosticCode.SHAPE_MISMATCH;
    fail(code, span, m, null);
    return null;
  }

  @Override
  public Value constant(Tensor t, Span span) {
    return graph.addConst(t, span.toLoc());
  }

  @Override
  public Val eval(Expr e, Body body, String bindName) {
    return evaluator.eval(e, body, bindName);
  }

  @Override
  public Val exec(Stmt s, Body body) {
    return evaluator.exec(s, body);
  }

  @Override
  public Val call(Call c, Body body, String bindName, Val piped) {
    return evaluator.call(c, body, bindName, piped);
  }

  @Override
  public Val applyArgs(Val f, Args args, Body body) {
    return modules.applyArgs(f, args, body);
  }

  @Override
  public Val apply(Instance inst, Args args, Body caller, List<Adaptation> hooks) {
    return modules.apply(inst, args, caller, hooks);
  }

  @Override
  public Instance instantiate(ModuleDef def, Args args, String name, Body body) {
    return modules.instantiate(def, args, name, body);
  }

  @Override
  public Val fuse(Value x, List<Val> modules, Span at, Span sp, Body body) {
    return routing.fuse(x, modules, at, sp, body);
  }
}
