package dev.cmod.ir.op;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/** The checks and shape arithmetic the families' inference rules share. */
public final class Shapes {
  private Shapes() {}

  static List<TensorType> one(TensorType t) {
    return List.of(t);
  }

  static void requireFloat(Op op, TensorType t) {
    if (!t.dtype().isFloat()) {
      throw new ShapeException(op.text() + ": needs a floating-point tensor, got " + t);
    }
  }

  static void sameDtype(Op op, TensorType x, TensorType y) {
    if (x.dtype() != y.dtype()) {
      throw new ShapeException(
          op.text() + ": element types differ: " + x + " and " + y + " (use cast)");
    }
  }

  static void checkAxis(Op op, int axis, int rank) {
    if (axis < 0 || axis >= rank) {
      throw new ShapeException(op.text() + ": axis " + axis + " is out of range for rank " + rank);
    }
  }

  /** The common size of two dims where one may be unknown; a mismatch is a shape error. */
  static Dim unify(Op op, Dim x, Dim y, int axis) {
    if (x.isUnknown()) {
      return y;
    }
    if (y.isUnknown() || x.equals(y)) {
      return x;
    }
    throw new ShapeException(op.text() + ": size mismatch on axis " + axis + ": " + x + " vs " + y);
  }

  static Dim product(List<Dim> dims) {
    Dim n = Dim.of(1);
    for (Dim d : dims) {
      n = n.times(d);
    }
    return n;
  }

  /** NumPy broadcasting of two shapes. */
  public static List<Dim> broadcast(List<Dim> x, List<Dim> y) {
    int r = Math.max(x.size(), y.size());
    List<Dim> out = new ArrayList<>(r);
    for (int i = 0; i < r; i++) {
      int ix = x.size() - r + i;
      int iy = y.size() - r + i;
      Dim a = ix >= 0 ? x.get(ix) : Dim.of(1);
      Dim b = iy >= 0 ? y.get(iy) : Dim.of(1);
      Dim d;
      if (a.equals(b)) {
        d = a;
      } else if (a.isKnown() && a.value() == 1) {
        d = b;
      } else if (b.isKnown() && b.value() == 1) {
        d = a;
      } else if (a.isUnknown()) {
        d = b;
      } else if (b.isUnknown()) {
        d = a;
      } else {
        throw new ShapeException(
            "shapes "
                + x
                + " and "
                + y
                + " do not broadcast: "
                + a
                + " vs "
                + b
                + " (axis "
                + (i - r)
                + " from the end)");
      }
      out.add(d);
    }
    return out;
  }
}
