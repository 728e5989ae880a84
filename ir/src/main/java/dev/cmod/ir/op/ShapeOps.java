package dev.cmod.ir.op;

import static dev.cmod.ir.op.Shapes.broadcast;
import static dev.cmod.ir.op.Shapes.checkAxis;
import static dev.cmod.ir.op.Shapes.one;
import static dev.cmod.ir.op.Shapes.product;
import static dev.cmod.ir.op.Shapes.sameDtype;
import static dev.cmod.ir.op.Shapes.unify;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shape ops: views and rearrangements that move data without arithmetic (reshape, transpose,
 * concat, split, slice, unsqueeze, squeeze, broadcast). Their dim-valued attributes may be
 * symbolic; the interpreter evaluates them at run time.
 */
public final class ShapeOps {
  /** The target shape of reshape and broadcast. */
  public static final AttrSpec<List<Dim>> DIMS = AttrSpec.dims("dims");

  public static final AttrSpec<long[]> PERM = AttrSpec.ints("perm");

  /** The axis of concat and split; absent: the last. */
  public static final AttrSpec<Long> AXIS_LAST = AttrSpec.integer("axis", -1);

  /** The axis of slice, unsqueeze and squeeze, which have no default. */
  public static final AttrSpec<Long> AXIS = AttrSpec.integer("axis");

  /** The sizes of split's parts along its axis. */
  public static final AttrSpec<List<Dim>> SIZES = AttrSpec.dims("sizes");

  public static final AttrSpec<Dim> START = AttrSpec.dim("start");
  public static final AttrSpec<Dim> END = AttrSpec.dim("end");

  private ShapeOps() {}

  static List<OpDef> defs() {
    return List.of(
        def(Op.RESHAPE).operands("x").attrs(DIMS).infer(ShapeOps::reshape),
        def(Op.TRANSPOSE).operands("x").attrs(PERM).infer(ShapeOps::transpose),
        def(Op.CONCAT).variadic("xs").attrs(AXIS_LAST).infer(ShapeOps::concat),
        def(Op.SPLIT).operands("x").attrs(SIZES, AXIS_LAST).infer(ShapeOps::split),
        def(Op.SLICE).operands("x").attrs(AXIS, START, END).infer(ShapeOps::slice),
        def(Op.UNSQUEEZE).operands("x").attrs(AXIS).infer(ShapeOps::unsqueeze),
        def(Op.SQUEEZE).operands("x").attrs(AXIS).infer(ShapeOps::squeeze),
        def(Op.BROADCAST)
            .operands("x")
            .attrs(DIMS)
            .infer((a, in) -> one(in.get(0).withDims(broadcast(in.get(0).dims(), DIMS.get(a))))));
  }

  private static OpDef.Builder def(Op op) {
    return OpDef.of(op, Family.SHAPE).flops(Flops.NONE);
  }

  private static List<TensorType> reshape(Attrs a, List<TensorType> in) {
    List<Dim> dims = DIMS.get(a);
    Dim want = product(dims);
    Dim have = in.get(0).numel();
    // provably different: the same symbols, no floor divisions, and a different polynomial
    // (seq vs 6 may agree at run time and is left to the runtime check)
    boolean comparable =
        !want.isUnknown()
            && !have.isUnknown()
            && !want.toString().contains("/")
            && !have.toString().contains("/")
            && want.symbols().equals(have.symbols());
    if (comparable && !want.equals(have) && !(want.isKnown() && have.isKnown())) {
      throw new ShapeException(
          "reshape: cannot view "
              + in.get(0)
              + " ("
              + have
              + " elements) as "
              + dims
              + " ("
              + want
              + " elements)");
    }
    if (want.isKnown() && have.isKnown() && want.value() != have.value()) {
      throw new ShapeException(
          "reshape: cannot view "
              + in.get(0)
              + " ("
              + have.value()
              + " elements) as "
              + dims
              + " ("
              + want.value()
              + " elements)");
    }
    return one(in.get(0).withDims(dims));
  }

  private static List<TensorType> transpose(Attrs a, List<TensorType> in) {
    long[] perm = PERM.get(a);
    TensorType x = in.get(0);
    if (perm.length != x.rank()) {
      throw new ShapeException(
          "transpose: permutation of length " + perm.length + " for a tensor of rank " + x.rank());
    }
    boolean[] seen = new boolean[perm.length];
    List<Dim> dims = new ArrayList<>();
    for (long p : perm) {
      if (p < 0 || p >= perm.length || seen[(int) p]) {
        throw new ShapeException(
            "transpose: "
                + Arrays.toString(perm)
                + " is not a permutation of 0.."
                + (perm.length - 1));
      }
      seen[(int) p] = true;
      dims.add(x.dim((int) p));
    }
    return one(x.withDims(dims));
  }

  private static List<TensorType> concat(Attrs a, List<TensorType> in) {
    TensorType first = in.get(0);
    int axis = AXIS_LAST.axis(a, first.rank());
    checkAxis(Op.CONCAT, axis, first.rank());
    Dim total = Dim.of(0);
    List<Dim> dims = new ArrayList<>(first.dims());
    for (TensorType t : in) {
      sameDtype(Op.CONCAT, first, t);
      if (t.rank() != first.rank()) {
        throw new ShapeException(
            "concat: all parts need the same rank, got " + first + " and " + t);
      }
      for (int i = 0; i < t.rank(); i++) {
        if (i != axis) {
          dims.set(i, unify(Op.CONCAT, dims.get(i), t.dim(i), i));
        }
      }
      total = total.plus(t.dim(axis));
    }
    dims.set(axis, total);
    return one(first.withDims(dims));
  }

  private static List<TensorType> split(Attrs a, List<TensorType> in) {
    TensorType x = in.get(0);
    int axis = AXIS_LAST.axis(a, x.rank());
    checkAxis(Op.SPLIT, axis, x.rank());
    Dim sum = Dim.of(0);
    List<TensorType> outs = new ArrayList<>();
    for (Dim s : SIZES.get(a)) {
      sum = sum.plus(s);
      List<Dim> dims = new ArrayList<>(x.dims());
      dims.set(axis, s);
      outs.add(x.withDims(dims));
    }
    unify(Op.SPLIT, x.dim(axis), sum, axis);
    return outs;
  }

  private static List<TensorType> slice(Attrs a, List<TensorType> in) {
    int axis = AXIS.getInt(a);
    TensorType x = in.get(0);
    checkAxis(Op.SLICE, axis, x.rank());
    List<Dim> dims = new ArrayList<>(x.dims());
    Dim len = END.get(a).minus(START.get(a));
    if (len.isKnown() && len.value() < 0) {
      throw new ShapeException("slice: end " + END.get(a) + " is before start " + START.get(a));
    }
    dims.set(axis, len);
    return one(x.withDims(dims));
  }

  private static List<TensorType> unsqueeze(Attrs a, List<TensorType> in) {
    int axis = AXIS.getInt(a);
    TensorType x = in.get(0);
    checkAxis(Op.UNSQUEEZE, axis, x.rank() + 1);
    List<Dim> dims = new ArrayList<>(x.dims());
    dims.add(axis, Dim.of(1));
    return one(x.withDims(dims));
  }

  private static List<TensorType> squeeze(Attrs a, List<TensorType> in) {
    int axis = AXIS.getInt(a);
    TensorType x = in.get(0);
    checkAxis(Op.SQUEEZE, axis, x.rank());
    Dim d = x.dim(axis);
    if (d.isKnown() && d.value() != 1) {
      throw new ShapeException("squeeze: axis " + axis + " of " + x + " has size " + d + ", not 1");
    }
    List<Dim> dims = new ArrayList<>(x.dims());
    dims.remove(axis);
    return one(x.withDims(dims));
  }
}
