package dev.cmod.ir.op;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * Everything the IR knows about one op in one place: its family, its operands (names, which are
 * optional or variadic), its typed attributes with their defaults, its shape and dtype inference,
 * and its cost. The op's kernel lives in the interpreter and its lowering in backend-onnx, both in
 * tables keyed by the same {@link Op}; {@link OpDefs#of} finds the definition.
 */
public final class OpDef {
  /** The groups definitions (and kernels, and lowerings) are kept in. */
  public enum Family {
    LEAF,
    ELEMENTWISE,
    SHAPE,
    REDUCTION,
    NORMALIZATION,
    ATTENTION,
    WINDOW,
    INDEXING,
    ROUTING,
    /** Pieces of imported ONNX models kept verbatim ({@link Op#ONNX_REGION}). */
    OPAQUE
  }

  /** An operand slot: its name, and whether it may be left out or repeated (the last one only). */
  public record Operand(String name, boolean optional, boolean variadic) {}

  /** Output types from the attributes and the operand types (whose count is already checked). */
  @FunctionalInterface
  public interface Inference {
    List<TensorType> infer(Attrs a, List<TensorType> in);
  }

  private final Op op;
  private final Family family;
  private final List<Operand> operands;
  private final List<AttrSpec<?>> attrs;
  private final Inference inference;
  private final String noInference;
  private final Flops flops;
  private final ToLongFunction<Attrs> params;

  private OpDef(
      Op op,
      Family family,
      List<Operand> operands,
      List<AttrSpec<?>> attrs,
      Inference inference,
      String noInference,
      Flops flops,
      ToLongFunction<Attrs> params) {
    this.op = op;
    this.family = family;
    this.operands = List.copyOf(operands);
    this.attrs = List.copyOf(attrs);
    this.inference = inference;
    this.noInference = noInference;
    this.flops = flops;
    this.params = params;
  }

  /** Starts the definition of {@code op} in {@code family}. */
  public static Builder of(Op op, Family family) {
    return new Builder(op, family);
  }

  public Op op() {
    return op;
  }

  public Family family() {
    return family;
  }

  public List<Operand> operands() {
    return operands;
  }

  public List<AttrSpec<?>> attrs() {
    return attrs;
  }

  /** The attribute called {@code name}, or null. */
  public AttrSpec<?> attr(String name) {
    for (AttrSpec<?> a : attrs) {
      if (a.name().equals(name)) {
        return a;
      }
    }
    return null;
  }

  public boolean hasInference() {
    return inference != null;
  }

  /** Why the op has no inference (leaves: their type is given when they are added); or null. */
  public String noInference() {
    return noInference;
  }

  /** The output types of a node of this op, checking its operand count first. */
  public List<TensorType> infer(Attrs a, List<TensorType> in) {
    if (in.size() < op.minArity || in.size() > op.maxArity) {
      throw new ShapeException(
          op.text()
              + " takes "
              + op.minArity
              + (op.maxArity != op.minArity ? " to " + op.maxArity : "")
              + " operands, got "
              + in.size());
    }
    if (inference == null) {
      throw new ShapeException("leaf nodes have no inference");
    }
    return inference.infer(a, in);
  }

  /** Estimated floating-point operations of one node of this op. */
  public double flops(List<TensorType> in, TensorType out, DimSize size) {
    return flops.of(in, out, size);
  }

  /** The model parameters a node of this op holds (its value's elements, for a parameter). */
  public long params(Attrs a) {
    return params.applyAsLong(a);
  }

  /** Collects a definition; {@link #infer} or {@link #leaf} ends it. */
  public static final class Builder {
    private final Op op;
    private final Family family;
    private final List<Operand> operands = new ArrayList<>();
    private final List<AttrSpec<?>> attrs = new ArrayList<>();
    private Flops flops = Flops.PER_OUTPUT;
    private ToLongFunction<Attrs> params = a -> 0;

    private Builder(Op op, Family family) {
      this.op = op;
      this.family = family;
    }

    /** Required operands, in slot order. */
    public Builder operands(String... names) {
      for (String n : names) {
        operands.add(new Operand(n, false, false));
      }
      return this;
    }

    /** A trailing operand that may be left out. */
    public Builder optional(String name) {
      operands.add(new Operand(name, true, false));
      return this;
    }

    /** A trailing operand that takes one or more tensors. */
    public Builder variadic(String name) {
      operands.add(new Operand(name, false, true));
      return this;
    }

    public Builder attrs(AttrSpec<?>... specs) {
      attrs.addAll(List.of(specs));
      return this;
    }

    /** The cost estimate (one operation per output element unless set). */
    public Builder flops(Flops f) {
      flops = Objects.requireNonNull(f);
      return this;
    }

    /** How many model parameters a node holds (none unless set). */
    public Builder params(ToLongFunction<Attrs> count) {
      params = Objects.requireNonNull(count);
      return this;
    }

    public OpDef infer(Inference inference) {
      return new OpDef(
          op, family, operands, attrs, Objects.requireNonNull(inference), null, flops, params);
    }

    /** Ends a definition without inference, saying why. */
    public OpDef leaf(String reason) {
      return new OpDef(op, family, operands, attrs, null, reason, flops, params);
    }
  }
}
