package dev.cmod.ir.graph;

import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/** Output types of every operator from its operand types and attributes. */
public final class ShapeInference {
  private ShapeInference() {}

  public static List<TensorType> infer(Op op, Attrs a, List<TensorType> in) {
    if (in.size() < op.minArity || in.size() > op.maxArity) {
      throw new ShapeException(
          op.text()
              + " takes "
              + op.minArity
              + (op.maxArity != op.minArity ? " to " + op.maxArity : "")
              + " operands, got "
              + in.size());
    }
    if (op.isElementwiseBinary()) {
      TensorType x = in.get(0);
      TensorType y = in.get(1);
      sameDtype(op, x, y);
      List<Dim> dims = broadcast(x.dims(), y.dims());
      return one(new TensorType(op.isComparison() ? DType.BOOL : x.dtype(), dims));
    }
    if (op.isElementwiseUnary()) {
      TensorType x = in.get(0);
      if (op != Op.NEG && op != Op.ABS && op != Op.RELU) {
        requireFloat(op, x);
      }
      return one(x);
    }
    return switch (op) {
      case INPUT, PARAM, CONST -> throw new ShapeException("leaf nodes have no inference");
      case WHERE -> {
        if (in.get(0).dtype() != DType.BOOL) {
          throw new ShapeException("where: the condition must be bool, got " + in.get(0));
        }
        sameDtype(op, in.get(1), in.get(2));
        yield one(
            new TensorType(
                in.get(1).dtype(),
                broadcast(in.get(0).dims(), broadcast(in.get(1).dims(), in.get(2).dims()))));
      }
      case MATMUL -> one(matmul(in.get(0), in.get(1)));
      case RESHAPE -> {
        List<Dim> dims = a.getDims("dims");
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
        yield one(in.get(0).withDims(dims));
      }
      case TRANSPOSE -> {
        long[] perm = a.getLongs("perm");
        TensorType x = in.get(0);
        if (perm.length != x.rank()) {
          throw new ShapeException(
              "transpose: permutation of length "
                  + perm.length
                  + " for a tensor of rank "
                  + x.rank());
        }
        boolean[] seen = new boolean[perm.length];
        List<Dim> dims = new ArrayList<>();
        for (long p : perm) {
          if (p < 0 || p >= perm.length || seen[(int) p]) {
            throw new ShapeException(
                "transpose: "
                    + java.util.Arrays.toString(perm)
                    + " is not a permutation of 0.."
                    + (perm.length - 1));
          }
          seen[(int) p] = true;
          dims.add(x.dim((int) p));
        }
        yield one(x.withDims(dims));
      }
      case CONCAT -> {
        int axis = a.getInt("axis");
        TensorType first = in.get(0);
        checkAxis(op, axis, first.rank());
        Dim total = Dim.of(0);
        List<Dim> dims = new ArrayList<>(first.dims());
        for (TensorType t : in) {
          sameDtype(op, first, t);
          if (t.rank() != first.rank()) {
            throw new ShapeException(
                "concat: all parts need the same rank, got " + first + " and " + t);
          }
          for (int i = 0; i < t.rank(); i++) {
            if (i != axis) {
              dims.set(i, unify(op, dims.get(i), t.dim(i), i));
            }
          }
          total = total.plus(t.dim(axis));
        }
        dims.set(axis, total);
        yield one(first.withDims(dims));
      }
      case SPLIT -> {
        int axis = a.getInt("axis");
        TensorType x = in.get(0);
        checkAxis(op, axis, x.rank());
        List<Dim> sizes = a.getDims("sizes");
        Dim sum = Dim.of(0);
        List<TensorType> outs = new ArrayList<>();
        for (Dim s : sizes) {
          sum = sum.plus(s);
          List<Dim> dims = new ArrayList<>(x.dims());
          dims.set(axis, s);
          outs.add(x.withDims(dims));
        }
        unify(op, x.dim(axis), sum, axis);
        yield outs;
      }
      case SLICE -> {
        int axis = a.getInt("axis");
        TensorType x = in.get(0);
        checkAxis(op, axis, x.rank());
        List<Dim> dims = new ArrayList<>(x.dims());
        Dim len = a.getDim("end").minus(a.getDim("start"));
        if (len.isKnown() && len.value() < 0) {
          throw new ShapeException(
              "slice: end " + a.getDim("end") + " is before start " + a.getDim("start"));
        }
        dims.set(axis, len);
        yield one(x.withDims(dims));
      }
      case UNSQUEEZE -> {
        int axis = a.getInt("axis");
        TensorType x = in.get(0);
        checkAxis(op, axis, x.rank() + 1);
        List<Dim> dims = new ArrayList<>(x.dims());
        dims.add(axis, Dim.of(1));
        yield one(x.withDims(dims));
      }
      case SQUEEZE -> {
        int axis = a.getInt("axis");
        TensorType x = in.get(0);
        checkAxis(op, axis, x.rank());
        Dim d = x.dim(axis);
        if (d.isKnown() && d.value() != 1) {
          throw new ShapeException(
              "squeeze: axis " + axis + " of " + x + " has size " + d + ", not 1");
        }
        List<Dim> dims = new ArrayList<>(x.dims());
        dims.remove(axis);
        yield one(x.withDims(dims));
      }
      case BROADCAST -> {
        List<Dim> target = a.getDims("dims");
        List<Dim> b = broadcast(in.get(0).dims(), target);
        yield one(in.get(0).withDims(b));
      }
      case REDUCE_SUM, REDUCE_MEAN, REDUCE_MAX, REDUCE_MIN, ARGMAX -> {
        TensorType x = in.get(0);
        int axis = a.getInt("axis");
        checkAxis(op, axis, x.rank());
        if (op == Op.REDUCE_MEAN) {
          requireFloat(op, x);
        }
        List<Dim> dims = new ArrayList<>(x.dims());
        if (a.getBool("keep", false)) {
          dims.set(axis, Dim.of(1));
        } else {
          dims.remove(axis);
        }
        yield one(new TensorType(op == Op.ARGMAX ? DType.I64 : x.dtype(), dims));
      }
      case SOFTMAX, LOG_SOFTMAX -> {
        requireFloat(op, in.get(0));
        checkAxis(op, a.getInt("axis"), in.get(0).rank());
        yield one(in.get(0));
      }
      case LAYER_NORM, RMS_NORM -> {
        TensorType x = in.get(0);
        requireFloat(op, x);
        if (x.rank() == 0) {
          throw new ShapeException(op.text() + ": needs at least one axis");
        }
        Dim last = x.dim(x.rank() - 1);
        for (int i = 1; i < in.size(); i++) {
          TensorType p = in.get(i);
          if (p.rank() != 1) {
            throw new ShapeException(
                op.text()
                    + ": "
                    + (i == 1 ? "gamma" : "beta")
                    + " must be 1-D over the last axis, got "
                    + p);
          }
          unify(op, last, p.dim(0), x.rank() - 1);
        }
        yield one(x);
      }
      case ATTENTION -> {
        TensorType q = in.get(0);
        TensorType k = in.get(1);
        TensorType v = in.get(2);
        for (TensorType t : List.of(q, k, v)) {
          requireFloat(op, t);
          if (t.rank() < 2) {
            throw new ShapeException(
                "attention: q, k, v need shape [..., seq, head_dim], got " + t);
          }
        }
        int r = q.rank();
        if (k.rank() != r || v.rank() != r) {
          throw new ShapeException(
              "attention: q, k and v need the same rank, got " + q + ", " + k + ", " + v);
        }
        unify(op, q.dim(r - 1), k.dim(r - 1), r - 1);
        unify(op, k.dim(r - 2), v.dim(r - 2), r - 2);
        List<Dim> lead =
            broadcast(
                q.dims().subList(0, r - 2),
                broadcast(k.dims().subList(0, r - 2), v.dims().subList(0, r - 2)));
        List<Dim> dims = new ArrayList<>(lead);
        dims.add(q.dim(r - 2));
        dims.add(v.dim(r - 1));
        if (in.size() == 4) {
          List<Dim> scores = new ArrayList<>(lead);
          scores.add(q.dim(r - 2));
          scores.add(k.dim(r - 2));
          broadcast(scores, in.get(3).dims());
        }
        yield one(q.withDims(dims));
      }
      case CONV1D, CONV2D -> one(conv(op, a, in));
      case AVG_POOL2D, MAX_POOL2D -> {
        TensorType x = in.get(0);
        requireFloat(op, x);
        if (x.rank() != 4) {
          throw new ShapeException(op.text() + ": needs [N, C, H, W], got " + x);
        }
        List<Dim> dims = new ArrayList<>(x.dims());
        if (WindowGeometry.isPlain(a)) {
          long k = a.getLong("kernel");
          long s = a.getLong("stride");
          for (int i = 2; i < 4; i++) {
            dims.set(i, x.dim(i).minus(Dim.of(k)).div(Dim.of(s)).plus(Dim.of(1)));
          }
        } else {
          WindowGeometry wg = WindowGeometry.of(a, 2, true);
          for (int i = 0; i < 2; i++) {
            if (wg.padBegin()[i] >= wg.kernels()[i] || wg.padEnd()[i] >= wg.kernels()[i]) {
              throw new ShapeException(
                  op.text()
                      + ": pads "
                      + java.util.Arrays.toString(wg.pads())
                      + " must be smaller than the kernel "
                      + java.util.Arrays.toString(wg.kernels()));
            }
            Dim d =
                x.dim(2 + i)
                    .plus(Dim.of(wg.padBegin()[i] + wg.padEnd()[i] - wg.kernels()[i]))
                    .div(Dim.of(wg.strides()[i]))
                    .plus(Dim.of(1));
            if (d.isKnown() && d.value() <= 0) {
              throw new ShapeException(
                  op.text()
                      + ": kernel "
                      + wg.kernels()[i]
                      + " is larger than the padded input "
                      + x.dim(2 + i));
            }
            dims.set(2 + i, d);
          }
        }
        yield one(x.withDims(dims));
      }
      case UPSAMPLE -> {
        TensorType x = in.get(0);
        if (x.rank() < 3) {
          throw new ShapeException("upsample: needs [N, C, L] or [N, C, H, W], got " + x);
        }
        long f = a.getLong("factor");
        List<Dim> dims = new ArrayList<>(x.dims());
        for (int i = 2; i < x.rank(); i++) {
          dims.set(i, x.dim(i).times(Dim.of(f)));
        }
        yield one(x.withDims(dims));
      }
      case PATCHIFY -> {
        TensorType x = in.get(0);
        if (x.rank() < 3) {
          throw new ShapeException("patchify: needs [..., C, H, W], got " + x);
        }
        long p = a.getLong("patch");
        int r = x.rank();
        Dim c = x.dim(r - 3);
        Dim h = x.dim(r - 2);
        Dim w = x.dim(r - 1);
        for (Dim d : List.of(h, w)) {
          if (d.isKnown() && d.value() % p != 0) {
            throw new ShapeException(
                "patchify: image size "
                    + h
                    + "x"
                    + w
                    + " is not a multiple of the patch size "
                    + p);
          }
        }
        List<Dim> dims = new ArrayList<>(x.dims().subList(0, r - 3));
        dims.add(h.div(Dim.of(p)).times(w.div(Dim.of(p))));
        dims.add(c.times(Dim.of(p * p)));
        yield one(x.withDims(dims));
      }
      case TAKE -> {
        TensorType table = in.get(0);
        TensorType ids = in.get(1);
        if (!ids.dtype().isInteger()) {
          throw new ShapeException("take: ids must be integers, got " + ids);
        }
        if (table.rank() < 1) {
          throw new ShapeException("take: the table needs at least one axis");
        }
        List<Dim> dims = new ArrayList<>(ids.dims());
        dims.addAll(table.dims().subList(1, table.rank()));
        yield one(table.withDims(dims));
      }
      case ONE_HOT -> {
        TensorType ids = in.get(0);
        if (!ids.dtype().isInteger()) {
          throw new ShapeException("one_hot: ids must be integers, got " + ids);
        }
        List<Dim> dims = new ArrayList<>(ids.dims());
        dims.add(Dim.of(a.getLong("n")));
        yield one(new TensorType(DType.F32, dims));
      }
      case COSINE -> {
        sameDtype(op, in.get(0), in.get(1));
        requireFloat(op, in.get(0));
        List<Dim> dims = new ArrayList<>(broadcast(in.get(0).dims(), in.get(1).dims()));
        int axis = a.getInt("axis");
        checkAxis(op, axis, dims.size());
        dims.remove(axis);
        yield one(in.get(0).withDims(dims));
      }
      case TOPK -> {
        TensorType x = in.get(0);
        int axis = a.getInt("axis");
        checkAxis(op, axis, x.rank());
        long k = a.getLong("k");
        Dim d = x.dim(axis);
        if (d.isKnown() && k > d.value()) {
          throw new ShapeException("topk: k = " + k + " is larger than axis " + axis + " of " + x);
        }
        List<Dim> dims = new ArrayList<>(x.dims());
        dims.set(axis, Dim.of(k));
        yield List.of(x.withDims(dims), new TensorType(DType.I64, dims));
      }
      case CAST -> one(in.get(0).withDtype(a.getDType("to")));
      case ROUTE -> {
        // the type of the dense form: Σ_e y_e · slice(gates, e)
        int gl = in.get(0).rank() - 1;
        TensorType acc = null;
        for (int e = 1; e < in.size(); e++) {
          Attrs slice = Attrs.of("axis", gl, "start", Dim.of(e - 1), "end", Dim.of(e));
          TensorType g = infer(Op.SLICE, slice, List.of(in.get(0))).get(0);
          TensorType term = infer(Op.MUL, Attrs.NONE, List.of(in.get(e), g)).get(0);
          acc = acc == null ? term : infer(Op.ADD, Attrs.NONE, List.of(acc, term)).get(0);
        }
        yield one(acc);
      }
      default -> throw new ShapeException("no shape rule for " + op.text());
    };
  }

  private static List<TensorType> one(TensorType t) {
    return List.of(t);
  }

  private static void requireFloat(Op op, TensorType t) {
    if (!t.dtype().isFloat()) {
      throw new ShapeException(op.text() + ": needs a floating-point tensor, got " + t);
    }
  }

  private static void sameDtype(Op op, TensorType x, TensorType y) {
    if (x.dtype() != y.dtype()) {
      throw new ShapeException(
          op.text() + ": element types differ: " + x + " and " + y + " (use cast)");
    }
  }

  private static void checkAxis(Op op, int axis, int rank) {
    if (axis < 0 || axis >= rank) {
      throw new ShapeException(op.text() + ": axis " + axis + " is out of range for rank " + rank);
    }
  }

  static Dim unify(Op op, Dim x, Dim y, int axis) {
    if (x.isUnknown()) {
      return y;
    }
    if (y.isUnknown() || x.equals(y)) {
      return x;
    }
    throw new ShapeException(op.text() + ": size mismatch on axis " + axis + ": " + x + " vs " + y);
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

  private static TensorType matmul(TensorType x, TensorType y) {
    if (x.dtype() != y.dtype()) {
      throw new ShapeException("@: element types differ: " + x + " and " + y);
    }
    requireFloat(Op.MATMUL, x);
    if (x.rank() == 0 || y.rank() == 0) {
      throw new ShapeException("@: operands must have at least one axis, got " + x + " and " + y);
    }
    List<Dim> a = new ArrayList<>(x.dims());
    List<Dim> b = new ArrayList<>(y.dims());
    boolean va = a.size() == 1;
    boolean vb = b.size() == 1;
    if (va) {
      a.add(0, Dim.of(1));
    }
    if (vb) {
      b.add(Dim.of(1));
    }
    Dim k1 = a.get(a.size() - 1);
    Dim k2 = b.get(b.size() - 2);
    if (!k1.isUnknown() && !k2.isUnknown() && !k1.equals(k2)) {
      throw new ShapeException(
          "@: inner dims differ: " + x + " @ " + y + " (" + k1 + " vs " + k2 + ")");
    }
    List<Dim> lead = broadcast(a.subList(0, a.size() - 2), b.subList(0, b.size() - 2));
    List<Dim> out = new ArrayList<>(lead);
    if (!va) {
      out.add(a.get(a.size() - 2));
    }
    if (!vb) {
      out.add(b.get(b.size() - 1));
    }
    return new TensorType(x.dtype(), out);
  }

  private static TensorType conv(Op op, Attrs a, List<TensorType> in) {
    int spatial = op == Op.CONV1D ? 1 : 2;
    TensorType x = in.get(0);
    TensorType w = in.get(1);
    requireFloat(op, x);
    sameDtype(op, x, w);
    if (x.rank() != 2 + spatial || w.rank() != 2 + spatial) {
      throw new ShapeException(
          op.text()
              + ": needs x of rank "
              + (2 + spatial)
              + " and w of rank "
              + (2 + spatial)
              + ", got "
              + x
              + " and "
              + w);
    }
    if (!WindowGeometry.isPlain(a)) {
      return convGeneral(op, a, in, spatial);
    }
    unify(op, x.dim(1), w.dim(1), 1);
    if (in.size() == 3) {
      TensorType b = in.get(2);
      if (b.rank() != 1) {
        throw new ShapeException(op.text() + ": bias must be 1-D, got " + b);
      }
      unify(op, w.dim(0), b.dim(0), 0);
    }
    long s = a.getLong("stride");
    long p = a.getLong("padding");
    List<Dim> dims = new ArrayList<>();
    dims.add(x.dim(0));
    dims.add(w.dim(0));
    for (int i = 0; i < spatial; i++) {
      Dim d = x.dim(2 + i).plus(Dim.of(2 * p)).minus(w.dim(2 + i)).div(Dim.of(s)).plus(Dim.of(1));
      if (d.isKnown() && d.value() <= 0) {
        throw new ShapeException(
            op.text()
                + ": kernel "
                + w.dim(2 + i)
                + " is larger than the padded input "
                + x.dim(2 + i));
      }
      dims.add(d);
    }
    return x.withDims(dims);
  }

  /**
   * Convolution with per-axis strides, pads and dilations, and channel groups (see {@link
   * WindowGeometry}).
   */
  private static TensorType convGeneral(Op op, Attrs a, List<TensorType> in, int spatial) {
    TensorType x = in.get(0);
    TensorType w = in.get(1);
    WindowGeometry wg = WindowGeometry.of(a, spatial, false);
    long groups = wg.groups();
    unify(op, x.dim(1), w.dim(1).times(Dim.of(groups)), 1);
    Dim o = w.dim(0);
    if (o.isKnown() && o.value() % groups != 0) {
      throw new ShapeException(
          op.text() + ": " + o + " output channels do not split into " + groups + " groups");
    }
    if (in.size() == 3) {
      TensorType b = in.get(2);
      if (b.rank() != 1) {
        throw new ShapeException(op.text() + ": bias must be 1-D, got " + b);
      }
      unify(op, w.dim(0), b.dim(0), 0);
    }
    List<Dim> dims = new ArrayList<>();
    dims.add(x.dim(0));
    dims.add(w.dim(0));
    for (int i = 0; i < spatial; i++) {
      Dim span = Dim.of(wg.dilations()[i]).times(w.dim(2 + i).minus(Dim.of(1))).plus(Dim.of(1));
      Dim d =
          x.dim(2 + i)
              .plus(Dim.of(wg.padBegin()[i] + wg.padEnd()[i]))
              .minus(span)
              .div(Dim.of(wg.strides()[i]))
              .plus(Dim.of(1));
      if (d.isKnown() && d.value() <= 0) {
        throw new ShapeException(
            op.text()
                + ": kernel "
                + w.dim(2 + i)
                + " (dilation "
                + wg.dilations()[i]
                + ") is larger than the padded input "
                + x.dim(2 + i));
      }
      dims.add(d);
    }
    return x.withDims(dims);
  }

  private static Dim product(List<Dim> dims) {
    Dim n = Dim.of(1);
    for (Dim d : dims) {
      n = n.times(d);
    }
    return n;
  }
}
