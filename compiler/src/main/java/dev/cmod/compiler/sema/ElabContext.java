package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.Call;
import dev.cmod.compiler.ast.Ast.ConstDecl;
import dev.cmod.compiler.ast.Ast.Expr;
import dev.cmod.compiler.ast.Ast.Stmt;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.ErrorV;
import dev.cmod.compiler.sema.Val.FloatV;
import dev.cmod.compiler.sema.Val.IntV;
import dev.cmod.compiler.sema.Val.ModuleDef;
import dev.cmod.compiler.sema.Val.TensorV;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;
import java.util.Map;

/**
 * The services the parts of elaboration need from each other, and all that the helpers (builtins,
 * compositions, arithmetic, types, initializers, {@code auto}) may use: report an error at a span,
 * add a node, read a compile-time value, evaluate an expression or statement, apply something to
 * arguments, make an instance, and reach the parameter store. Parts depend on this interface, never
 * on {@link Elaborator}, so that each can be read (and replaced) on its own; {@link Elaborator}
 * wires them together and is the only implementation.
 */
interface ElabContext {
  Diagnostics diags();

  CompileOptions opts();

  /** The graph of the model being elaborated. */
  Graph graph();

  ModelFacts facts();

  /** The parameter store: creates every parameter of the graph. */
  Params params();

  // ---------------------------------------------------------------------------------------------
  // reporting and building

  /** Reports an error and unwinds the current expression (always throws {@link ElabError}). */
  Val fail(DiagnosticCode code, Span span, String message, String help);

  /** Adds an IR node; a violated shape rule becomes a located diagnostic. */
  default Value node(Op op, Attrs attrs, Span span, Value... operands) {
    return nodeMulti(op, attrs, span, operands).out();
  }

  /** Adds an IR node with several results. */
  Node nodeMulti(Op op, Attrs attrs, Span span, Value... operands);

  Value constant(Tensor t, Span span);

  /**
   * The result types a node would have, without adding it; a violated shape rule is reported as
   * {@link #nodeMulti} reports it.
   */
  List<TensorType> infer(Op op, Attrs attrs, Span span, TensorType... operands);

  // ---------------------------------------------------------------------------------------------
  // compile-time views of values

  /** A tensor view of a value: tensors as they are, anything else is an error. */
  default Value tensorOf(Val v, Span span, String what) {
    if (v instanceof TensorV t) {
      return t.value();
    }
    if (v instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    fail(
        DiagnosticCode.TYPE_MISMATCH,
        span,
        what + " must be a tensor, got " + Val.describe(v),
        null);
    return null;
  }

  default double number(Val v, Span span, String what) {
    if (v instanceof IntV i && i.dim().isKnown()) {
      return i.dim().value();
    }
    if (v instanceof FloatV f) {
      return f.value();
    }
    if (v instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    fail(
        v instanceof TensorV ? DiagnosticCode.NOT_CONSTANT : DiagnosticCode.TYPE_MISMATCH,
        span,
        what + " must be a number known at compile time, got " + Val.describe(v),
        null);
    return 0;
  }

  default long intValue(Val v, Span span, String what) {
    if (v instanceof IntV i && i.dim().isKnown()) {
      return i.dim().value();
    }
    if (v instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    fail(
        v instanceof TensorV || v instanceof IntV
            ? DiagnosticCode.NOT_CONSTANT
            : DiagnosticCode.TYPE_MISMATCH,
        span,
        what + " must be an integer known at compile time, got " + Val.describe(v),
        null);
    return 0;
  }

  default Dim dimValue(Val v, Span span, String what) {
    if (v instanceof IntV i) {
      return i.dim();
    }
    if (v instanceof FloatV f && f.value() == Math.rint(f.value())) {
      return Dim.of((long) f.value());
    }
    if (v instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    fail(
        v instanceof TensorV ? DiagnosticCode.NOT_CONSTANT : DiagnosticCode.TYPE_MISMATCH,
        span,
        what + " must be an integer size, got " + Val.describe(v),
        null);
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // evaluation and application

  /** Evaluates a const declaration (compile-time values only). */
  default Val evalConst(ConstDecl c, FileScope scope) {
    Body b = Body.bare(scope.env);
    try {
      Val v = eval(c.value(), b, null);
      if (v instanceof TensorV) {
        return fail(
            DiagnosticCode.NOT_CONSTANT,
            c.value().span(),
            "a const must be a compile-time value, not a tensor",
            null);
      }
      return v;
    } catch (ElabError e) {
      return new ErrorV();
    }
  }

  /** Evaluates an expression; {@code bindName} names an instance created by a let binding. */
  Val eval(Expr e, Body body, String bindName);

  /** Runs a statement; returns the value of an expression or return statement, else null. */
  Val exec(Stmt s, Body body);

  /**
   * A call; {@code piped} is the left side of {@code x |> f(...)} (inserted as the first argument
   * of a builtin).
   */
  Val call(Call c, Body body, String bindName, Val piped);

  /** Applies anything applicable to arguments; null when {@code f} cannot be applied. */
  Val applyArgs(Val f, Args args, Body body);

  /** Applies anything applicable (instance, stack, adapted instance, builtin) to one tensor. */
  default Val applyTo(Val f, Val x, Span span, Body body) {
    Val applied = applyArgs(f, new Args(List.of(x), List.of(span), Map.of(), Map.of(), span), body);
    if (applied != null) {
      return applied;
    }
    return fail(
        DiagnosticCode.NOT_CALLABLE,
        span,
        Val.describe(f) + " cannot be applied to a tensor",
        null);
  }

  /** Applies an instance to arguments with these compositions active. */
  Val apply(Instance inst, Args args, Body caller, List<Adaptation> hooks);

  /** The instance {@code name} of a module in {@code body} (made once, shared when run again). */
  Instance instantiate(ModuleDef def, Args args, String name, Body body);

  /** {@code fuse(x, [a, b, ...])}: attention over module outputs (see {@link Routing}). */
  Val fuse(Value x, List<Val> modules, Span at, Span sp, Body body);
}
