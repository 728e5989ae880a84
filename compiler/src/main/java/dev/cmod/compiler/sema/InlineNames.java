package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Names inline instances as language.md section 9 says: {@code <Module>_<k>}, k counting the inline
 * instances of that module in the enclosing body in source order from 0. Instances bound by {@code
 * let} (also list elements and repeat stacks bound by let) are named by their binding and are not
 * counted.
 */
final class InlineNames {
  private InlineNames() {}

  static IdentityHashMap<Expr, String> compute(List<Stmt> stmts, List<Expr> extra, Env env) {
    Set<String> locals = new HashSet<>();
    for (Stmt s : stmts) {
      if (s instanceof LetStmt l) {
        locals.add(l.name().text());
      } else if (s instanceof ParamStmt p) {
        locals.add(p.name().text());
      } else if (s instanceof LetTupleStmt t) {
        t.names().forEach(n -> locals.add(n.text()));
      }
    }
    Collector c = new Collector(env, locals);
    for (Stmt s : stmts) {
      if (s instanceof LetStmt l) {
        c.bound(l.value());
      } else if (s instanceof LetTupleStmt l) {
        c.visit(l.value());
      } else if (s instanceof ParamStmt p) {
        if (p.init() != null) {
          c.visit(p.init());
        }
        if (p.cond() != null) {
          c.visit(p.cond());
        }
      } else if (s instanceof ReturnStmt r) {
        c.visit(r.value());
      } else if (s instanceof ExprStmt e) {
        c.visit(e.expr());
      }
    }
    extra.forEach(c::visit);
    c.sites.sort(Comparator.comparingInt((Expr e) -> e.span().start()));
    IdentityHashMap<Expr, String> out = new IdentityHashMap<>();
    Map<String, Integer> counters = new HashMap<>();
    for (Expr e : c.sites) {
      String m = c.moduleOf(e);
      int k = counters.merge(m, 1, Integer::sum) - 1;
      out.put(e, m + "_" + k);
    }
    return out;
  }

  private static final class Collector {
    final Env env;
    final Set<String> locals;
    final List<Expr> sites = new ArrayList<>();

    Collector(Env env, Set<String> locals) {
      this.env = env;
      this.locals = locals;
    }

    Val.ModuleDef module(String name) {
      if (locals.contains(name)) {
        return null;
      }
      return env.lookup(name) instanceof Val.ModuleV m ? m.def() : null;
    }

    boolean isHyperSite(Expr e) {
      if (e instanceof Call c && c.callee() instanceof NameRef n) {
        Val.ModuleDef d = module(n.name());
        return d != null && d.decl().hasHyperList();
      }
      return false;
    }

    boolean isPlainSite(Expr e) {
      if (e instanceof NameRef n) {
        Val.ModuleDef d = module(n.name());
        return d != null && !d.decl().hasHyperList();
      }
      return false;
    }

    String moduleOf(Expr e) {
      if (e instanceof Repeat r) {
        return moduleOf(r.body());
      }
      if (e instanceof Call c) {
        return moduleOf(c.callee());
      }
      if (e instanceof NameRef n) {
        return n.name();
      }
      return "Instance";
    }

    /** A let's value: a directly bound site is named by the binding. */
    void bound(Expr e) {
      if (isHyperSite(e)) {
        ((Call) e).args().forEach(a -> visit(a.value()));
      } else if (isPlainSite(e)) {
        return;
      } else if (e instanceof ListExpr l) {
        for (Expr item : l.items()) {
          bound(item);
        }
      } else if (e instanceof Repeat r) {
        visit(r.count());
        inside(r.body());
      } else if (e instanceof Freeze f) {
        bound(f.target());
      } else {
        visit(e);
      }
    }

    /** The body of a repeat: its instances are named by the repeat. */
    void inside(Expr body) {
      if (isHyperSite(body)) {
        ((Call) body).args().forEach(a -> visit(a.value()));
      } else if (!isPlainSite(body)) {
        visit(body);
      }
    }

    void visit(Expr e) {
      if (e instanceof Call c) {
        if (isHyperSite(c)) {
          sites.add(c);
        } else {
          visit(c.callee());
        }
        c.args().forEach(a -> visit(a.value()));
      } else if (e instanceof NameRef n) {
        if (isPlainSite(n)) {
          sites.add(n);
        }
      } else if (e instanceof Repeat r) {
        sites.add(r);
        visit(r.count());
        inside(r.body());
      } else if (e instanceof ListExpr l) {
        l.items().forEach(this::visit);
      } else if (e instanceof Member m) {
        visit(m.target());
      } else if (e instanceof TupleIndex t) {
        visit(t.target());
      } else if (e instanceof Unary u) {
        visit(u.operand());
      } else if (e instanceof Binary b) {
        visit(b.left());
        visit(b.right());
      } else if (e instanceof Pipe p) {
        visit(p.left());
        visit(p.right());
      } else if (e instanceof If i) {
        visit(i.cond());
        visit(i.then());
        visit(i.otherwise());
      } else if (e instanceof Route r) {
        visit(r.input());
        visit(r.experts());
        visit(r.by());
      } else if (e instanceof With w) {
        visit(w.base());
        w.args().forEach(a -> visit(a.value()));
        w.targets().forEach(this::visit);
        if (w.from() != null) {
          visit(w.from());
        }
      } else if (e instanceof Freeze f) {
        visit(f.target());
      } else {
      }
    }
  }
}
