package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.ModuleDecl;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;

/**
 * Values the elaborator computes with: compile-time scalars and lists, tensors (IR values), modules
 * and instances.
 */
public sealed interface Val {

  /** An integer known at compile time, or a symbolic size (a dim of a tensor). */
  record IntV(Dim dim) implements Val {
    public static IntV of(long v) {
      return new IntV(Dim.of(v));
    }
  }

  record FloatV(double value) implements Val {}

  record BoolV(boolean value) implements Val {}

  record StrV(String value) implements Val {}

  record NoneV() implements Val {}

  record ListV(List<Val> items) implements Val {}

  /** Several results; {@code names} may be empty (positional only). */
  record TupleV(List<Val> items, List<String> names) implements Val {}

  record TensorV(Value value) implements Val {
    public TensorType type() {
      return value.type();
    }
  }

  record DTypeV(DType dtype) implements Val {}

  /** An initializer, such as {@code init.normal(0.02)}. */
  record InitV(String kind, List<Double> args) implements Val {}

  /** The {@code init} namespace itself. */
  record InitNamespaceV() implements Val {}

  /** A builtin function, possibly with leading arguments already bound (pipes). */
  record FuncV(String name) implements Val {}

  /** A module that has not been instantiated. */
  record ModuleV(ModuleDef def) implements Val {}

  /** A module instance: owns its parameters; applying it twice shares them. */
  record InstanceV(Instance inst) implements Val {}

  /** {@code repeat(n) M(...)}: instances applied in order. */
  record StackV(List<Instance> layers) implements Val {}

  /**
   * An instance (or stack) with parameter compositions: applying it runs the target with the
   * compositions active. {@code checked} records that unmatched patterns were reported.
   */
  record AdaptedV(Val target, String basePath, List<Adaptation> rules, boolean[] checked)
      implements Val {}

  /**
   * A parameter bundle from {@code import weights}: tensors by path relative to the instance they
   * apply to.
   */
  record BundleV(
      String name,
      java.util.Map<String, dev.cmod.ir.tensor.Tensor> tensors,
      dev.cmod.compiler.diag.Span span)
      implements Val {}

  /**
   * A PEFT adapter from {@code import weights "adapter/"}: applied with {@code base with lora(from
   * = name)} or {@code ia3(from = name)}.
   */
  record PeftV(String name, PeftCheckpoint checkpoint, dev.cmod.compiler.diag.Span span)
      implements Val {}

  /** {@code c1 * b1 - c2 * b2}: a weighted sum of bundles. */
  record DeltaV(List<Term> terms) implements Val {}

  /** One weighted bundle of a parameter-arithmetic expression. */
  record Term(double coef, BundleV bundle, dev.cmod.compiler.diag.Span span) {}

  /**
   * {@code base + Σ cᵢ·bᵢ}, or a merge ({@code ties}, {@code dare}: {@code merge} not null): a new
   * instance (or stack, like its base: an {@link InstanceV} or a {@link StackV}) whose parameters
   * are materialized at compile time; {@code made} holds it once applied.
   */
  record ArithV(Val base, List<Term> terms, String name, Val[] made, Merges.Method merge)
      implements Val {}

  /**
   * A pretrained model from {@code import onnx ... as Name}: a frozen module applied like an
   * instance.
   */
  record ImportedV(dev.cmod.ir.graph.ImportedModule module, String name) implements Val {}

  /** The result of an expression that already failed; suppresses follow-on errors. */
  record ErrorV() implements Val {}

  /** A module declaration with the file scope it was declared in. */
  record ModuleDef(ModuleDecl decl, FileScope scope) {
    public String name() {
      return decl.name().text();
    }
  }

  static String describe(Val v) {
    if (v instanceof IntV i) {
      return i.dim().isKnown() ? "the integer " + i.dim() : "the size " + i.dim();
    } else if (v instanceof FloatV f) {
      return "the number " + f.value();
    } else if (v instanceof BoolV b) {
      return "the boolean " + b.value();
    } else if (v instanceof StrV s) {
      return "the string \"" + s.value() + "\"";
    } else if (v instanceof NoneV) {
      return "none";
    } else if (v instanceof ListV l) {
      return "a list of " + l.items().size();
    } else if (v instanceof TupleV t) {
      return "a tuple of " + t.items().size();
    } else if (v instanceof TensorV t) {
      return "a tensor " + t.type();
    } else if (v instanceof DTypeV d) {
      return "the dtype " + d.dtype();
    } else if (v instanceof InitV || v instanceof InitNamespaceV) {
      return "an initializer";
    } else if (v instanceof FuncV f) {
      return "the builtin " + f.name();
    } else if (v instanceof ModuleV m) {
      return "the module " + m.def().name();
    } else if (v instanceof InstanceV i) {
      return "an instance of " + i.inst().def.name();
    } else if (v instanceof StackV) {
      return "a stack of instances";
    } else if (v instanceof ImportedV im) {
      return "the imported model " + im.name();
    } else if (v instanceof BundleV b) {
      return "the weights bundle " + b.name();
    } else if (v instanceof PeftV p) {
      return "the PEFT adapter " + p.name();
    } else if (v instanceof DeltaV || v instanceof ArithV) {
      return "a parameter-arithmetic expression";
    } else if (v instanceof AdaptedV a) {
      return "an adapted instance of " + a.basePath();
    }
    return "an invalid value";
  }
}
