package dev.cmod.compiler.ast;

import dev.cmod.compiler.diag.Span;
import java.util.List;

/**
 * The abstract syntax tree: immutable records, each with the span of the text it came from. Built
 * from the ANTLR parse tree by {@code dev.cmod.compiler.syntax.AstBuilder}.
 */
public final class Ast {
  private Ast() {}

  /** An identifier occurrence. */
  public record Name(String text, Span span) {}

  /** A parsed source file. */
  public record FileAst(List<Decl> decls, Span span) {}

  public sealed interface Decl permits ImportDecl, ConstDecl, ModuleDecl, ModelDecl {
    Span span();
  }

  public enum ImportKind {
    STD,
    FILE,
    ONNX,
    WEIGHTS
  }

  /**
   * {@code import std.nn.{Linear, Mlp}}: kind STD, path ["std","nn"], names [Linear, Mlp] (a plain
   * {@code import std.nn.Linear} gives path ["std","nn"] and names [Linear]); FILE/ONNX/WEIGHTS
   * carry a quoted path and, for ONNX/WEIGHTS, an alias.
   */
  public record ImportDecl(
      ImportKind kind,
      List<Name> path,
      List<Name> names,
      String file,
      Span fileSpan,
      Name alias,
      OnnxSignature signature,
      Span span)
      implements Decl {}

  /**
   * The signature written after {@code import onnx "m.onnx" as M}: {@code : (inputs) -> (values)};
   * either list may be absent (null). Each item names an ONNX value, with a type or without.
   */
  public record OnnxSignature(List<SigItem> inputs, List<SigItem> outputs, Span span) {}

  /** One ONNX value of a signature: its name in the file and, where written, its type. */
  public record SigItem(String name, TypeExpr type, Span span) {}

  public record ConstDecl(Name name, TypeExpr type, Expr value, Span span) implements Decl {}

  /**
   * A module; {@code hasHyperList} is false when only one parameter list was written (no
   * hyperparameters).
   */
  public record ModuleDecl(
      Name name,
      List<ParamDecl> hyper,
      List<ParamDecl> args,
      boolean hasHyperList,
      List<ResultField> result,
      Block body,
      Span span)
      implements Decl {}

  public record ParamDecl(Name name, TypeExpr type, Expr dflt, Span span) {}

  /** One declared result; {@code name} is null for a single unnamed result. */
  public record ResultField(Name name, TypeExpr type) {}

  public record ModelDecl(Name name, List<ModelItem> items, Span span) implements Decl {}

  // ---- types ----
  public sealed interface TypeExpr permits TensorTypeExpr, NamedTypeExpr {
    Span span();
  }

  /** {@code f32[b, 3]}, {@code Image[3, H, W]}, {@code Text[seq] vocab 8000}. */
  public record TensorTypeExpr(Name head, List<DimExpr> dims, Expr vocab, Span span)
      implements TypeExpr {}

  /** {@code int}, {@code float}, {@code bool}, {@code string}. */
  public record NamedTypeExpr(Name name, Span span) implements TypeExpr {}

  public sealed interface DimExpr permits AnyRankDim, UnknownDim, ExprDim {
    Span span();
  }

  public record AnyRankDim(Span span) implements DimExpr {}

  public record UnknownDim(Span span) implements DimExpr {}

  public record ExprDim(Expr expr, Span span) implements DimExpr {}

  // ---- statements ----
  public record Block(List<Stmt> stmts, Span span) {}

  public sealed interface Stmt permits ParamStmt, LetStmt, LetTupleStmt, ReturnStmt, ExprStmt {
    Span span();
  }

  public record ParamStmt(Name name, TypeExpr type, Expr init, Expr cond, Span span)
      implements Stmt {}

  public record LetStmt(Name name, TypeExpr type, Expr value, Span span) implements Stmt {}

  public record LetTupleStmt(List<Name> names, Expr value, Span span) implements Stmt {}

  public record ReturnStmt(Expr value, Span span) implements Stmt {}

  public record ExprStmt(Expr expr, Span span) implements Stmt {}

  // ---- model items ----
  public sealed interface ModelItem
      permits ComputeItem,
          BudgetItem,
          InputItem,
          OutputItem,
          AssignItem,
          ConstraintItem,
          AlignItem,
          WeightsItem,
          StmtItem,
          ConditionItem {
    Span span();
  }

  public record ComputeItem(Name preset, Span span) implements ModelItem {}

  public record BudgetEntry(Name key, boolean strict, Expr limit, Span span) {}

  /**
   * {@code budget { ... }}, or {@code budget strict { ... }}: a strict budget is only checked, the
   * compiler never changes the model to meet it (no structure reduction).
   */
  public record BudgetItem(List<BudgetEntry> entries, boolean strict, Span span)
      implements ModelItem {}

  /**
   * {@code input x: T from image(...) where ...}; {@code exact} is the span of the keyword, null
   * without it; {@code from} the declared preprocessing, null without it.
   */
  public record InputItem(
      Name name, Span exact, TypeExpr type, Codec from, List<Expr> where, Span span)
      implements ModelItem {}

  /**
   * How real data becomes an input ({@code from image(resize = 256)}) or an output becomes real
   * data ({@code to labels("species.txt")}): a codec name and its arguments, all constants.
   */
  public record Codec(Name kind, List<Arg> args, Span span) {}

  /**
   * {@code output y: T = expr}; {@code value} is null for a declared output assigned later by an
   * {@link AssignItem}, {@code exact} as for {@link InputItem}, {@code to} the declared decoding of
   * its values (null without one).
   */
  public record OutputItem(Name name, Span exact, TypeExpr type, Codec to, Expr value, Span span)
      implements ModelItem {}

  /** {@code y = expr}: the one assignment of an output declared without a value. */
  public record AssignItem(Name name, Expr value, Span span) implements ModelItem {}

  public record ConstraintItem(Name name, Expr expr, Span span) implements ModelItem {}

  public record AlignItem(List<Name> inputs, Name axis, Span span) implements ModelItem {}

  public record WeightsItem(String file, Span span) implements ModelItem {}

  public record StmtItem(Stmt stmt, Span span) implements ModelItem {}

  /** {@code condition gen on edges via control(strength = 1.0)} (section 7). */
  public record ConditionItem(Name target, Name source, Name via, List<Arg> args, Span span)
      implements ModelItem {}

  // ---- expressions ----
  public sealed interface Expr
      permits IntLit,
          FloatLit,
          StringLit,
          BoolLit,
          NoneLit,
          NameRef,
          ListExpr,
          Member,
          TupleIndex,
          Call,
          Unary,
          Binary,
          Pipe,
          If,
          Repeat,
          Route,
          With,
          Freeze {
    Span span();
  }

  public record IntLit(long value, Span span) implements Expr {}

  public record FloatLit(double value, Span span) implements Expr {}

  public record StringLit(String value, Span span) implements Expr {}

  public record BoolLit(boolean value, Span span) implements Expr {}

  public record NoneLit(Span span) implements Expr {}

  public record NameRef(String name, Span span) implements Expr {}

  public record ListExpr(List<Expr> items, Span span) implements Expr {}

  public record Member(Expr target, Name member, Span span) implements Expr {}

  public record TupleIndex(Expr target, int index, Span span) implements Expr {}

  /** An argument; {@code name} is null for a positional one. */
  public record Arg(Name name, Expr value) {}

  public record Call(Expr callee, List<Arg> args, Span span) implements Expr {}

  public record Unary(String op, Expr operand, Span span) implements Expr {}

  public record Binary(String op, Expr left, Expr right, Span opSpan, Span span) implements Expr {}

  public record Pipe(Expr left, Expr right, Span span) implements Expr {}

  public record If(Expr cond, Expr then, Expr otherwise, Span span) implements Expr {}

  public record Repeat(Expr count, Expr body, Span span) implements Expr {}

  public record Route(Expr input, Expr experts, Expr by, Span span) implements Expr {}

  public record With(
      Expr base, Name composition, List<Arg> args, List<Expr> targets, Expr from, Span span)
      implements Expr {}

  public record Freeze(Expr target, boolean trainable, Span span) implements Expr {}
}
