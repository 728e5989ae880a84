package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.ConstDecl;
import dev.cmod.compiler.ast.Ast.ModelDecl;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.ir.graph.Graph;
import java.util.Set;

/**
 * Type-checks a model and lowers it to the IR in one walk ("elaboration"): compile-time values
 * (hyperparameters, sizes, conditions, lists, instances) are computed; every tensor operation
 * becomes an IR node whose shape is inferred and checked on the spot. Module applications are
 * inlined; an instance's parameters are created on its first application and shared after. Errors
 * are reported with source spans and evaluation resumes at the next statement.
 *
 * <p>This class is the entry point only. The work is done by parts that each have one job and reach
 * each other through {@link ElabContext}: {@link ModelHeader} (inputs, outputs, budget,
 * constraints, alignment), {@link Conditions}, {@link Evaluator} (expressions and statements),
 * {@link Modules} (application and instances), {@link ParamBinding} (arguments to declared
 * parameters), {@link Params} (creating parameters), {@link Compositions} (LoRA, IA³, adapters,
 * prefix, prompt, AdapterHub blocks), {@link Routing} (route and fuse), {@link ArithSpec}
 * (parameter arithmetic), {@link AutoSynth} ({@code auto(...)}) and {@link Builtins}; {@link
 * ElabSession} wires them for one compilation.
 */
public final class Elaborator {
  private final ElabSession session;

  public Elaborator(Diagnostics diags, CompileOptions opts) {
    this.session = new ElabSession(diags, opts);
  }

  public ModelFacts facts() {
    return session.facts();
  }

  /**
   * The environment of builtin names: dtypes and the init namespace (functions are resolved by
   * name).
   */
  public static Env builtinEnv() {
    return Env.builtins();
  }

  /** Evaluates a const declaration (compile-time values only). */
  public Val evalConst(ConstDecl c, FileScope scope) {
    return session.evalConst(c, scope);
  }

  /** Elaborates one model into a fresh graph. */
  public Graph elaborateModel(ModelDecl model, FileScope scope) {
    return session.elaborateModel(model, scope);
  }

  /** Weight keys that no parameter claimed (typos), after elaboration. */
  public Set<String> unusedWeightKeys() {
    return session.params().unusedWeightKeys();
  }
}
