package dev.cmod.compiler.syntax;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.diag.Span;
import dev.cmod.grammar.CmodParser;
import dev.cmod.grammar.CmodParser.*;
import java.util.ArrayList;
import java.util.List;
import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.Token;

/**
 * Turns the ANTLR parse tree into AST records with spans. One method per syntactic category; an
 * unexpected context is a bug in the grammar/builder pair and fails loudly.
 */
final class AstBuilder {
  private final SourceFile file;
  private final Diagnostics diags;

  AstBuilder(SourceFile file, Diagnostics diags) {
    this.file = file;
    this.diags = diags;
  }

  Span span(ParserRuleContext c) {
    Token s = c.getStart();
    Token e = c.getStop();
    int start = s.getStartIndex();
    int end = e == null || e.getStopIndex() < start ? start : e.getStopIndex() + 1;
    return new Span(file, start, end);
  }

  Span span(Token t) {
    return new Span(file, t.getStartIndex(), Math.max(t.getStartIndex(), t.getStopIndex() + 1));
  }

  FileAst file(FileContext c) {
    List<Decl> decls = new ArrayList<>();
    for (DeclContext d : c.decl()) {
      Decl x = decl(d);
      if (x != null) {
        decls.add(x);
      }
    }
    return new FileAst(decls, span(c));
  }

  private Decl decl(DeclContext c) {
    if (c.importDecl() != null) {
      return importDecl(c.importDecl());
    } else if (c.constDecl() != null) {
      ConstDeclContext k = c.constDecl();
      return new ConstDecl(
          name(k.ident()), k.type() == null ? null : type(k.type()), expr(k.expr()), span(k));
    } else if (c.moduleDecl() != null) {
      return moduleDecl(c.moduleDecl());
    } else if (c.modelDecl() != null) {
      return modelDecl(c.modelDecl());
    }
    return null; // only after a syntax error, which is already reported
  }

  private Decl importDecl(ImportDeclContext c) {
    if (c instanceof ImportStdContext s) {
      List<Name> path = new ArrayList<>();
      path.add(name(s.qualifiedName().ident()));
      for (PathPartContext p : s.qualifiedName().pathPart()) {
        path.add(new Name(p.getText(), span(p)));
      }
      List<Name> names = new ArrayList<>();
      for (IdentContext i : s.ident()) {
        names.add(name(i));
      }
      if (names.isEmpty() && path.size() > 1) {
        names.add(path.remove(path.size() - 1));
      }
      return new ImportDecl(ImportKind.STD, path, names, null, null, null, null, span(c));
    } else if (c instanceof ImportFileContext f) {
      return new ImportDecl(
          ImportKind.FILE,
          List.of(),
          List.of(),
          string(f.STRING().getSymbol()),
          span(f.STRING().getSymbol()),
          null,
          null,
          span(c));
    } else if (c instanceof ImportOnnxContext o) {
      return new ImportDecl(
          ImportKind.ONNX,
          List.of(),
          List.of(),
          string(o.STRING().getSymbol()),
          span(o.STRING().getSymbol()),
          name(o.ident()),
          o.onnxSignature() == null ? null : signature(o.onnxSignature()),
          span(c));
    } else if (c instanceof ImportWeightsContext w) {
      return new ImportDecl(
          ImportKind.WEIGHTS,
          List.of(),
          List.of(),
          string(w.STRING().getSymbol()),
          span(w.STRING().getSymbol()),
          name(w.ident()),
          null,
          span(c));
    }
    throw new IllegalStateException("unhandled import " + c.getClass().getSimpleName());
  }

  private OnnxSignature signature(CmodParser.OnnxSignatureContext c) {
    return new OnnxSignature(
        c.ins == null ? null : sigItems(c.ins), c.outs == null ? null : sigItems(c.outs), span(c));
  }

  private List<SigItem> sigItems(CmodParser.SigListContext c) {
    List<SigItem> out = new ArrayList<>();
    for (CmodParser.SigItemContext i : c.sigItem()) {
      String name = i.STRING() != null ? string(i.STRING().getSymbol()) : name(i.ident()).text();
      out.add(new SigItem(name, i.type() == null ? null : type(i.type()), span(i)));
    }
    return out;
  }

  private Decl moduleDecl(ModuleDeclContext c) {
    boolean two = c.args != null;
    List<ParamDecl> hyper = two ? params(c.hyper) : List.of();
    List<ParamDecl> args = params(two ? c.args : c.hyper);
    List<ResultField> result = new ArrayList<>();
    if (c.resultType() instanceof SingleResultContext s) {
      result.add(new ResultField(null, type(s.type())));
    } else if (c.resultType() instanceof TupleResultContext t) {
      for (int i = 0; i < t.ident().size(); i++) {
        result.add(new ResultField(name(t.ident(i)), type(t.type(i))));
      }
    }
    return new ModuleDecl(name(c.ident()), hyper, args, two, result, block(c.block()), span(c));
  }

  private List<ParamDecl> params(ParamListContext c) {
    List<ParamDecl> out = new ArrayList<>();
    for (ParamDeclContext p : c.paramDecl()) {
      out.add(
          new ParamDecl(
              name(p.ident()), type(p.type()), p.expr() == null ? null : expr(p.expr()), span(p)));
    }
    return out;
  }

  private Block block(BlockContext c) {
    List<Stmt> stmts = new ArrayList<>();
    for (StmtContext s : c.stmt()) {
      stmts.add(stmt(s));
    }
    return new Block(stmts, span(c));
  }

  private Stmt stmt(StmtContext c) {
    if (c instanceof ParamStmtContext p) {
      return new ParamStmt(
          name(p.ident()),
          type(p.type()),
          p.init == null ? null : expr(p.init),
          p.cond == null ? null : expr(p.cond),
          span(c));
    } else if (c instanceof LetStmtContext l) {
      return new LetStmt(
          name(l.ident()), l.type() == null ? null : type(l.type()), expr(l.expr()), span(c));
    } else if (c instanceof LetTupleStmtContext l) {
      List<Name> names = new ArrayList<>();
      for (IdentContext i : l.ident()) {
        names.add(name(i));
      }
      return new LetTupleStmt(names, expr(l.expr()), span(c));
    } else if (c instanceof ReturnStmtContext r) {
      return new ReturnStmt(expr(r.expr()), span(c));
    } else if (c instanceof ExprStmtContext e) {
      return new ExprStmt(expr(e.expr()), span(c));
    }
    throw new IllegalStateException("unhandled statement " + c.getClass().getSimpleName());
  }

  private Decl modelDecl(ModelDeclContext c) {
    List<ModelItem> items = new ArrayList<>();
    for (ModelItemContext m : c.modelItem()) {
      items.add(modelItem(m));
    }
    return new ModelDecl(name(c.ident()), items, span(c));
  }

  private Codec codec(CompositionContext c) {
    return c == null ? null : new Codec(name(c.ident()), args(c.arg()), span(c));
  }

  private ModelItem modelItem(ModelItemContext c) {
    if (c instanceof ComputeItemContext k) {
      return new ComputeItem(name(k.ident()), span(c));
    } else if (c instanceof BudgetItemContext b) {
      List<BudgetEntry> es = new ArrayList<>();
      for (BudgetEntryContext e : b.budgetEntry()) {
        es.add(new BudgetEntry(name(e.ident()), e.LT() != null, expr(e.expr()), span(e)));
      }
      return new BudgetItem(es, b.STRICT() != null, span(c));
    } else if (c instanceof InputItemContext i) {
      List<Expr> where = new ArrayList<>();
      for (ExprContext e : i.expr()) {
        where.add(expr(e));
      }
      return new InputItem(
          name(i.ident()),
          i.EXACT() == null ? null : span(i.EXACT().getSymbol()),
          type(i.type()),
          codec(i.composition()),
          where,
          span(c));
    } else if (c instanceof OutputItemContext o) {
      return new OutputItem(
          name(o.ident()),
          o.EXACT() == null ? null : span(o.EXACT().getSymbol()),
          o.type() == null ? null : type(o.type()),
          codec(o.composition()),
          o.expr() == null ? null : expr(o.expr()),
          span(c));
    } else if (c instanceof AssignItemContext a) {
      return new AssignItem(name(a.ident()), expr(a.expr()), span(c));
    } else if (c instanceof ConstraintItemContext k) {
      return new ConstraintItem(null, expr(k.expr()), span(c));
    } else if (c instanceof NamedConstraintItemContext k) {
      return new ConstraintItem(name(k.ident()), expr(k.expr()), span(c));
    } else if (c instanceof AlignItemContext a) {
      List<Name> ins = new ArrayList<>();
      for (int i = 0; i < a.ident().size() - 1; i++) {
        ins.add(name(a.ident(i)));
      }
      return new AlignItem(ins, name(a.ident(a.ident().size() - 1)), span(c));
    } else if (c instanceof WeightsItemContext w) {
      String f = string(w.STRING().getSymbol());
      return new WeightsItem(f == null ? "" : f, span(c));
    } else if (c instanceof StmtItemContext s) {
      return new StmtItem(stmt(s.stmt()), span(c));
    } else if (c instanceof ConditionItemContext k) {
      return new ConditionItem(
          name(k.ident(0)),
          name(k.ident(1)),
          name(k.composition().ident()),
          args(k.composition().arg()),
          span(c));
    }
    throw new IllegalStateException("unhandled model item " + c.getClass().getSimpleName());
  }

  private TypeExpr type(TypeContext c) {
    if (c instanceof TensorTypeContext t) {
      List<DimExpr> dims = new ArrayList<>();
      for (DimContext d : t.dim()) {
        if (d instanceof AnyRankDimContext) {
          dims.add(new AnyRankDim(span(d)));
        } else if (d instanceof UnknownDimContext) {
          dims.add(new UnknownDim(span(d)));
        } else {
          dims.add(new ExprDim(expr(((ExprDimContext) d).expr()), span(d)));
        }
      }
      return new TensorTypeExpr(
          name(t.ident()), dims, t.expr() == null ? null : expr(t.expr()), span(c));
    } else if (c instanceof NamedTypeContext n) {
      return new NamedTypeExpr(new Name(n.typeName().getText(), span(n.typeName())), span(c));
    }
    throw new IllegalStateException("unhandled type " + c.getClass().getSimpleName());
  }

  /** Deepest expression tree accepted (long operator chains nest as deeply as they are long). */
  static final int MAX_EXPR_DEPTH = 5000;

  /** Thrown after the depth diagnostic is reported; Parsing turns it into "no AST". */
  static final class TooDeep extends RuntimeException {
    TooDeep() {
      super(null, null, false, false);
    }
  }

  private int depth;

  Expr expr(ExprContext c) {
    if (++depth > MAX_EXPR_DEPTH) {
      diags.error(
          DiagnosticCode.SOURCE_LIMIT,
          span(c),
          "expression nests deeper than " + MAX_EXPR_DEPTH + " levels",
          "split it with let bindings");
      throw new TooDeep();
    }
    try {
      return exprInner(c);
    } finally {
      depth--;
    }
  }

  private Expr exprInner(ExprContext c) {
    Span sp = span(c);
    if (c instanceof PrimaryExprContext p) {
      return primary(p.primary());
    } else if (c instanceof MemberExprContext m) {
      return new Member(expr(m.expr()), name(m.ident()), sp);
    } else if (c instanceof TupleIndexExprContext t) {
      return new TupleIndex(
          expr(t.expr()), (int) Math.min(Integer.MAX_VALUE, parseInt(t.INT().getSymbol())), sp);
    } else if (c instanceof CallExprContext k) {
      return new Call(expr(k.expr()), args(k.arg()), sp);
    } else if (c instanceof NegExprContext n) {
      return new Unary("-", expr(n.expr()), sp);
    } else if (c instanceof MulExprContext m) {
      return new Binary(m.op.getText(), expr(m.expr(0)), expr(m.expr(1)), span(m.op), sp);
    } else if (c instanceof AddExprContext a) {
      return new Binary(a.op.getText(), expr(a.expr(0)), expr(a.expr(1)), span(a.op), sp);
    } else if (c instanceof CompareExprContext k) {
      return new Binary(k.op.getText(), expr(k.expr(0)), expr(k.expr(1)), span(k.op), sp);
    } else if (c instanceof PipeExprContext p) {
      return new Pipe(expr(p.expr(0)), expr(p.expr(1)), sp);
    } else if (c instanceof IfExprContext i) {
      return new If(expr(i.expr(0)), expr(i.expr(1)), expr(i.expr(2)), sp);
    } else if (c instanceof RepeatExprContext r) {
      return new Repeat(expr(r.expr(0)), expr(r.expr(1)), sp);
    } else if (c instanceof RouteExprContext r) {
      return new Route(expr(r.expr(0)), expr(r.expr(1)), expr(r.expr(2)), sp);
    } else if (c instanceof FrozenExprContext f) {
      return new Freeze(expr(f.expr()), false, sp);
    } else if (c instanceof TrainableExprContext t) {
      return new Freeze(expr(t.expr()), true, sp);
    } else if (c instanceof WithExprContext w) {
      List<Expr> targets = new ArrayList<>();
      for (PrimaryContext t : w.targets) {
        targets.add(primary(t));
      }
      CompositionContext comp = w.composition();
      return new With(
          expr(w.expr(0)),
          name(comp.ident()),
          args(comp.arg()),
          targets,
          w.from == null ? null : expr(w.from),
          sp);
    }
    throw new IllegalStateException("unhandled expression " + c.getClass().getSimpleName());
  }

  private List<Arg> args(List<ArgContext> cs) {
    List<Arg> out = new ArrayList<>();
    for (ArgContext a : cs) {
      if (a instanceof NamedArgContext n) {
        out.add(new Arg(name(n.ident()), expr(n.expr())));
      } else {
        out.add(new Arg(null, expr(((PositionalArgContext) a).expr())));
      }
    }
    return out;
  }

  private Expr primary(PrimaryContext c) {
    Span sp = span(c);
    if (c instanceof IntLitContext i) {
      return new IntLit(parseInt(i.INT().getSymbol()), sp);
    } else if (c instanceof FloatLitContext f) {
      String t = f.FLOAT().getText().replace("_", "");
      return new FloatLit(Double.parseDouble(t), sp);
    } else if (c instanceof StringLitContext s) {
      String v = string(s.STRING().getSymbol());
      return new StringLit(v == null ? "" : v, sp);
    } else if (c instanceof BoolLitContext b) {
      return new BoolLit(b.TRUE() != null, sp);
    } else if (c instanceof NoneLitContext) {
      return new NoneLit(sp);
    } else if (c instanceof NameRefContext n) {
      return new NameRef(n.ident().getText(), sp);
    } else if (c instanceof ParenExprContext p) {
      return expr(p.expr());
    } else if (c instanceof ListExprContext l) {
      List<Expr> items = new ArrayList<>();
      for (ExprContext e : l.expr()) {
        items.add(expr(e));
      }
      return new ListExpr(items, sp);
    }
    throw new IllegalStateException("unhandled primary " + c.getClass().getSimpleName());
  }

  private Name name(IdentContext c) {
    return new Name(c.getText(), span(c));
  }

  private long parseInt(Token t) {
    String s = t.getText().replace("_", "");
    long mult = 1;
    char last = s.charAt(s.length() - 1);
    switch (last) {
      case 'K' -> mult = 1_000L;
      case 'M' -> mult = 1_000_000L;
      case 'G' -> mult = 1_000_000_000L;
      case 'T' -> mult = 1_000_000_000_000L;
      default -> {}
    }
    if (mult != 1) {
      s = s.substring(0, s.length() - 1);
    }
    try {
      return Math.multiplyExact(Long.parseLong(s), mult);
    } catch (NumberFormatException | ArithmeticException e) {
      diags.error(
          DiagnosticCode.BAD_LITERAL,
          span(t),
          "integer literal " + t.getText() + " does not fit in 64 bits");
      return 0;
    }
  }

  /** The string's value, or null when it has an invalid escape (reported). */
  private String string(Token t) {
    String raw = t.getText();
    boolean bad = false;
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i < raw.length() - 1; i++) {
      char ch = raw.charAt(i);
      if (ch == '\\' && i + 1 < raw.length() - 1) {
        char n = raw.charAt(++i);
        switch (n) {
          case 'n' -> sb.append('\n');
          case 't' -> sb.append('\t');
          case '"' -> sb.append('"');
          case '\\' -> sb.append('\\');
          default -> {
            diags.error(
                DiagnosticCode.BAD_LITERAL,
                span(t),
                "unknown escape \\" + n + " in string",
                "use \\n, \\t, \\\" or \\\\");
            sb.append(n);
            bad = true;
          }
        }
      } else {
        sb.append(ch);
      }
    }
    return bad ? null : sb.toString();
  }

  static String tokenName(int type) {
    return CmodParser.VOCABULARY.getDisplayName(type);
  }
}
