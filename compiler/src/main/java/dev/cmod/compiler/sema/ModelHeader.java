package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Elaborates a model's header items: inputs, outputs, the budget, constraints, conditions and
 * alignment, and runs the model's statements in between. One job: turn a model declaration's items
 * into graph inputs, outputs and {@link ModelFacts}; everything an item's expressions need comes
 * through {@link ElabContext}.
 */
final class ModelHeader {
  private final ElabContext el;
  private Codecs codecs;
  private final Map<String, Codec> inputCodecs = new HashMap<>();

  ModelHeader(ElabContext el) {
    this.el = el;
  }

  /** Elaborates the items of a model into the session's fresh graph. */
  Graph elaborate(ModelDecl model, FileScope scope) {
    Env env = new Env(scope.env);
    codecs =
        new Codecs(
            el,
            new CodecFiles(
                scope.path != null
                    ? scope.path.toAbsolutePath().getParent()
                    : java.nio.file.Path.of("").toAbsolutePath()));
    List<Stmt> stmts = new ArrayList<>();
    List<Expr> extra = new ArrayList<>();
    Map<String, OutputItem> declared = new HashMap<>();
    Set<String> assigned = new HashSet<>();
    for (ModelItem it : model.items()) {
      if (it instanceof StmtItem s) {
        stmts.add(s.stmt());
      } else if (it instanceof OutputItem o && o.value() != null) {
        extra.add(o.value());
      } else if (it instanceof OutputItem o) {
        declared.putIfAbsent(o.name().text(), o);
      } else if (it instanceof AssignItem a) {
        extra.add(a.value());
        assigned.add(a.name().text());
      } else if (it instanceof ConstraintItem c) {
        extra.add(c.expr());
      }
    }
    Set<String> done = new HashSet<>();
    IdentityHashMap<Expr, String> names = InlineNames.compute(stmts, extra, env);
    Body body = new Body("", env, names, new LinkedHashMap<>(), true);
    for (ModelItem it : model.items()) {
      try {
        if (it instanceof InputItem in) {
          defineOnFailure(in, body);
        } else if (it instanceof OutputItem out && out.value() != null) {
          output(out, out.value(), body);
        } else if (it instanceof OutputItem out) {
          declaration(out, declared, assigned);
        } else if (it instanceof AssignItem a) {
          assignment(a, declared, done, body);
        } else if (it instanceof StmtItem s) {
          el.exec(s.stmt(), body);
        } else if (it instanceof ComputeItem c) {
          el.facts().compute = c.preset().text();
          el.facts().computeSpan = c.preset().span();
        } else if (it instanceof BudgetItem b) {
          budget(b, body);
        } else if (it instanceof ConstraintItem c) {
          constraint(c, body);
        } else if (it instanceof AlignItem a) {
          align(a, body);
        } else if (it instanceof ConditionItem ci) {
          Conditions.condition(ci, body, el);
        }
        // weights items are loaded by the driver before elaboration
      } catch (ArithmeticException e) {
        el.diags()
            .error(
                DiagnosticCode.LIMIT,
                it.span(),
                "a size computed here does not fit in 64 bits (" + e.getMessage() + ")",
                "use smaller dims");
      } catch (ElabError e) {
        // reported; go on with the next item
      }
    }
    if (!inputCodecs.isEmpty()) {
      codecs.checkLinks(inputCodecs);
    }
    if (!declared.isEmpty()) {
      inDeclarationOrder(model);
    }
    if (el.graph().outputs().isEmpty() && !el.diags().hasErrors()) {
      el.diags()
          .error(
              DiagnosticCode.NO_RESULT,
              model.name().span(),
              "model '" + model.name().text() + "' declares no output",
              "add an output, e.g. output y: Vector[10] = ...");
    }
    return el.graph();
  }

  /**
   * A failed input declaration still defines its name (as an error value), so later uses do not
   * cascade.
   */
  private void defineOnFailure(InputItem in, Body body) {
    try {
      input(in, body);
    } catch (ElabError e) {
      if (!body.env.definesLocally(in.name().text())) {
        body.env.define(in.name().text(), new ErrorV());
      }
      throw e;
    }
  }

  private void input(InputItem in, Body body) {
    String name = in.name().text();
    if (body.env.definesLocally(name)) {
      el.fail(
          DiagnosticCode.DUPLICATE,
          in.name().span(),
          "'" + name + "' is already declared in this model",
          null);
    }
    Modality.Resolved r = Modality.resolve(in.type(), in.exact(), el, body.env, true);
    TensorType t = r.type();
    for (Expr w : in.where()) {
      el.facts().recordBound(w, el, body);
    }
    Value v = el.graph().addInput(name, t, in.span().toLoc());
    ModelFacts.Port port = new ModelFacts.Port(name, r, in.span());
    el.facts().inputs.add(port);
    if (in.from() != null) {
      inputCodecs.put(name, in.from());
      v = codecs.input(in.from(), port, v, body);
    }
    body.env.define(name, new TensorV(v));
  }

  /**
   * {@code output y: T} without a value: it must be declared once and assigned exactly once (the
   * assignment gives it its value wherever it stands, see {@link #assignment}).
   */
  private void declaration(OutputItem out, Map<String, OutputItem> declared, Set<String> assigned) {
    String name = out.name().text();
    if (out.type() == null) {
      el.fail(
          DiagnosticCode.BAD_TYPE,
          out.span(),
          "output '" + name + "' needs a type or a value",
          "write output " + name + ": f32[4] and assign it later, or output " + name + " = ...");
    }
    if (declared.get(name) != out) {
      el.fail(
          DiagnosticCode.DUPLICATE,
          out.name().span(),
          "output '" + name + "' is declared twice",
          null);
    }
    if (!assigned.contains(name)) {
      el.fail(
          DiagnosticCode.NO_RESULT,
          out.name().span(),
          "output '" + name + "' is declared but never assigned",
          "assign it once in the model: " + name + " = ...");
    }
  }

  /** {@code y = expr}: the one value of the output {@code y} declared without one. */
  private void assignment(
      AssignItem a, Map<String, OutputItem> declared, Set<String> done, Body body) {
    String name = a.name().text();
    OutputItem decl = declared.get(name);
    if (decl == null) {
      boolean inline = el.graph().outputs().containsKey(name);
      el.fail(
          inline ? DiagnosticCode.DUPLICATE : DiagnosticCode.UNKNOWN_NAME,
          a.name().span(),
          inline
              ? "output '" + name + "' already has its value at its declaration"
              : "'" + name + "' is not an output declared without a value",
          inline
              ? "declare it as output " + name + ": T and assign it once"
              : "declare it first (output " + name + ": f32[4]), or name a value with let");
    }
    if (!done.add(name)) {
      el.fail(
          DiagnosticCode.DUPLICATE,
          a.name().span(),
          "output '" + name + "' is assigned twice",
          "an output gets one value; name intermediate values with let");
    }
    output(decl, a.value(), body);
  }

  /**
   * Orders the graph's outputs (and their ports) as the model declares them, so an output declared
   * first and assigned later keeps its place.
   */
  private void inDeclarationOrder(ModelDecl model) {
    List<String> order = new ArrayList<>();
    for (ModelItem it : model.items()) {
      if (it instanceof OutputItem o) {
        order.add(o.name().text());
      } else if (it instanceof ConstraintItem c && c.name() != null) {
        order.add(c.name().text());
      }
    }
    el.graph().orderOutputs(order);
    el.facts().outputs.sort(Comparator.comparingInt(p -> rank(order, p.name())));
  }

  private static int rank(List<String> order, String name) {
    int i = order.indexOf(name);
    return i < 0 ? order.size() : i;
  }

  private void output(OutputItem out, Expr expr, Body body) {
    String name = out.name().text();
    Val v =
        expr instanceof Call ac
                && ac.callee() instanceof NameRef an
                && an.name().equals("auto")
                && body.env.lookup("auto") == null
            ? AutoSynth.architecture(out, ac, body, el)
            : el.eval(expr, body, null);
    if (v instanceof ErrorV) {
      return;
    }
    if (el.graph().outputs().containsKey(name)) {
      el.fail(
          DiagnosticCode.DUPLICATE,
          out.name().span(),
          "output '" + name + "' is declared twice",
          null);
    }
    Value value = el.tensorOf(v, expr.span(), "output '" + name + "'");
    Modality.Resolved declared = null;
    if (out.type() != null) {
      declared =
          Modality.checkOutput(out.type(), out.exact(), value, el, body.env, expr.span(), name);
    }
    el.graph().setOutput(name, value);
    ModelFacts.Port port =
        new ModelFacts.Port(
            name, declared != null ? declared : Modality.Resolved.plain(value.type()), out.span());
    el.facts().outputs.add(port);
    if (out.to() != null) {
      codecs.output(out.to(), port, value, body);
    }
  }

  private void budget(BudgetItem b, Body body) {
    el.facts().strictBudget |= b.strict();
    for (BudgetEntry e : b.entries()) {
      Val v = el.eval(e.limit(), body, null);
      double limit = el.number(v, e.limit().span(), "budget limit");
      el.facts().budget.put(e.key().text(), new ModelFacts.Limit(limit, e.strict(), e.span()));
      if (!Set.of("params", "flops", "tokens", "memory", "latency").contains(e.key().text())) {
        el.diags()
            .report(
                new dev.cmod.compiler.diag.Diagnostic(
                    DiagnosticCode.UNKNOWN_ARGUMENT,
                    dev.cmod.compiler.diag.Severity.WARNING,
                    e.key().span(),
                    "unknown budget entry '" + e.key().text() + "' is not checked",
                    "known entries: params, flops, tokens"));
      }
    }
  }

  private void constraint(ConstraintItem c, Body body) {
    Val v = el.eval(c.expr(), body, null);
    if (c.name() != null) {
      Value t = el.tensorOf(v, c.expr().span(), "constraint '" + c.name().text() + "'");
      el.graph().setOutput(c.name().text(), t);
      el.facts()
          .outputs
          .add(new ModelFacts.Port(c.name().text(), Modality.Resolved.plain(t.type()), c.span()));
      return;
    }
    if (v instanceof BoolV b) {
      if (!b.value()) {
        String detail = "";
        if (c.expr() instanceof Binary bin) {
          Val l = el.eval(bin.left(), body, null);
          Val r = el.eval(bin.right(), body, null);
          detail =
              ": "
                  + TypeMatch.text(bin.left())
                  + " is "
                  + plain(l)
                  + ", not "
                  + bin.op()
                  + " "
                  + plain(r);
        }
        el.fail(
            DiagnosticCode.BOUND_VIOLATED,
            c.expr().span(),
            "constraint does not hold" + detail,
            null);
      }
    } else if (!(v instanceof ErrorV)) {
      el.fail(
          DiagnosticCode.NOT_CONSTANT,
          c.expr().span(),
          "an unnamed constraint must be a compile-time condition, got " + Val.describe(v),
          "name it (constraint agree = cosine(a, b)) to add it as a scored output");
    }
  }

  private static String plain(Val v) {
    if (v instanceof IntV i) {
      return i.dim().toString();
    } else if (v instanceof FloatV f) {
      return Double.toString(f.value());
    } else if (v instanceof BoolV b) {
      return Boolean.toString(b.value());
    }
    return Val.describe(v);
  }

  private void align(AlignItem a, Body body) {
    Dim first = null;
    String firstName = null;
    for (Name n : a.inputs()) {
      Val v = body.env.lookup(n.text());
      if (v == null) {
        el.fail(DiagnosticCode.UNKNOWN_NAME, n.span(), "unknown input '" + n.text() + "'", null);
      }
      ModelFacts.Port p = el.facts().input(n.text());
      if (p == null) {
        el.fail(
            DiagnosticCode.TYPE_MISMATCH,
            n.span(),
            "'" + n.text() + "' is not a model input",
            null);
      }
      Dim d = p.resolved().timeAxis() < 0 ? null : p.resolved().type().dim(p.resolved().timeAxis());
      if (d == null) {
        el.fail(
            DiagnosticCode.TYPE_MISMATCH,
            n.span(),
            "input '"
                + n.text()
                + "' ("
                + p.resolved().describe()
                + ") has no "
                + a.axis().text()
                + " axis",
            "align inputs of type Audio, Video, Text or Seq");
      }
      if (first == null) {
        first = d;
        firstName = n.text();
      } else if (!first.equals(d)) {
        el.fail(
            DiagnosticCode.SHAPE_MISMATCH,
            a.span(),
            "inputs '"
                + firstName
                + "' and '"
                + n.text()
                + "' are not aligned on "
                + a.axis().text()
                + ": "
                + first
                + " vs "
                + d,
            "declare both with the same symbolic length, e.g. Audio[T] and Video[T, 3, H, W]");
      }
    }
  }
}
