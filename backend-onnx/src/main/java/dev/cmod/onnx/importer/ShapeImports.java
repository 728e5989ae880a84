package dev.cmod.onnx.importer;

import static dev.cmod.onnx.importer.ImportContext.dimsOf;
import static dev.cmod.onnx.importer.ImportContext.product;

import ai.onnx.proto.OnnxMl.AttributeProto;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Imports of ONNX's shape operators. Shape and the integer arithmetic on it are folded at import
 * time into vectors of IR dims (see {@link ImportValue}), so Reshape, Expand and the like get
 * static, possibly symbolic, targets; Constant and ConstantOfShape give tensors known at import
 * time.
 */
final class ShapeImports {
  private ShapeImports() {}

  /** A slice bound at or above this is "to the end" (exporters write INT64_MAX or similar). */
  private static final long BIG = 1L << 40;

  static void register(ImportTable.Registrar r) {
    r.add("Constant", Set.of(), ShapeImports::constant);
    r.add("Shape", Set.of(), ShapeImports::shape);
    r.add(
        "Size",
        Set.of(),
        cx ->
            cx.out(
                0,
                ImportValue.dims(List.of(product(cx.type(cx.need(0)).dims())), true, DType.I64)));
    r.add("Reshape", Set.of(Op.RESHAPE), ShapeImports::reshapeOp);
    r.add("Flatten", Set.of(Op.RESHAPE), ShapeImports::flatten);
    r.add("Transpose", Set.of(Op.TRANSPOSE), ShapeImports::transpose);
    r.add("Concat", Set.of(Op.CONCAT), ShapeImports::concat);
    r.add("Split", Set.of(Op.SPLIT), ShapeImports::split);
    r.add("Slice", Set.of(Op.SLICE), ShapeImports::slice);
    r.add("Squeeze", Set.of(Op.SQUEEZE), ShapeImports::squeeze);
    r.add("Unsqueeze", Set.of(Op.UNSQUEEZE), ShapeImports::unsqueeze);
    r.add("Expand", Set.of(Op.BROADCAST), ShapeImports::expand);
    r.add("ConstantOfShape", Set.of(Op.BROADCAST), ShapeImports::constantOfShape);
    r.add("Tile", Set.of(Op.RESHAPE, Op.BROADCAST), ShapeImports::tile);
    r.add("Range", Set.of(), ShapeImports::range);
    r.add("Pad", Set.of(Op.BROADCAST, Op.CONCAT, Op.TAKE, Op.TRANSPOSE), ShapeImports::pad);
  }

  /**
   * Pad in constant mode with constant, non-negative pads: along each padded axis, x between two
   * broadcast constants of the pad's width (so symbolic dims of the other axes stay symbolic).
   * Other modes, negative pads (crops) and the {@code axes} input are carried opaque.
   */
  private static void pad(ImportContext cx) {
    String mode = cx.attrString("mode", "constant");
    if (!List.of("constant", "edge", "reflect").contains(mode)) {
      throw cx.unsupportedHere("mode '" + mode + "'");
    }
    Value x = cx.val(cx.need(0));
    long[] pads;
    double value;
    if (cx.opset() < 11) {
      pads = cx.attrInts("pads");
      value = cx.attrFloat("value", 0);
    } else {
      pads = cx.constInts(cx.need(1), "pads");
      value = cx.in(2) == null ? 0 : constScalar(cx, 2, "constant_value").get(0);
      if (cx.in(3) != null) {
        throw cx.unsupportedHere("the axes input");
      }
    }
    int rank = x.type().rank();
    if (pads == null || pads.length != 2 * rank) {
      throw new ImportException(
          "ONNX operator "
              + cx.describe()
              + ": "
              + (pads == null ? 0 : pads.length)
              + " pads for a tensor of rank "
              + rank);
    }
    Value cur = x;
    for (int axis = 0; axis < rank; axis++) {
      long before = pads[axis];
      long after = pads[axis + rank];
      if (before < 0 || after < 0) {
        throw cx.unsupportedHere("negative pads (cropping)");
      }
      if (before == 0 && after == 0) {
        continue;
      }
      if (!mode.equals("constant")) {
        cur = Resampling.padAlong(cx, cur, axis, before, after, mode.equals("reflect"));
        continue;
      }
      List<Value> parts = new ArrayList<>();
      Value fill = cx.scalar(value, x.type().dtype());
      if (before > 0) {
        parts.add(cx.add(Op.BROADCAST, Attrs.of("dims", widthAt(cur, axis, before)), fill));
      }
      parts.add(cur);
      if (after > 0) {
        parts.add(cx.add(Op.BROADCAST, Attrs.of("dims", widthAt(cur, axis, after)), fill));
      }
      cur = cx.graph().add(Op.CONCAT, Attrs.of("axis", axis), parts, cx.loc()).out();
    }
    cx.out(cur);
  }

  /** The dims of {@code v} with axis {@code axis} of size {@code width}. */
  private static List<Dim> widthAt(Value v, int axis, long width) {
    List<Dim> d = new ArrayList<>(v.type().dims());
    d.set(axis, Dim.of(width));
    return List.copyOf(d);
  }

  /**
   * Tile as a broadcast: x of dims [d0, d1, ...] reshaped to [1, d0, 1, d1, ...], broadcast to [r0,
   * d0, r1, d1, ...] and reshaped to [r0 d0, r1 d1, ...], the copies in ONNX's order.
   */
  private static void tile(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    long[] reps = cx.constInts(cx.need(1), "repeats");
    List<Dim> dims = x.type().dims();
    if (reps.length != dims.size()) {
      throw new ImportException(
          "ONNX operator "
              + cx.describe()
              + ": "
              + reps.length
              + " repeats for a tensor of rank "
              + dims.size());
    }
    List<Dim> spread = new ArrayList<>();
    List<Dim> wide = new ArrayList<>();
    List<Dim> out = new ArrayList<>();
    boolean same = true;
    for (int i = 0; i < reps.length; i++) {
      if (reps[i] < 0) {
        throw new ImportException(
            "ONNX operator " + cx.describe() + ": a negative repeat " + reps[i]);
      }
      same &= reps[i] == 1;
      spread.add(Dim.of(1));
      spread.add(dims.get(i));
      wide.add(Dim.of(reps[i]));
      wide.add(dims.get(i));
      out.add(Dim.of(reps[i]).times(dims.get(i)));
    }
    if (same) {
      cx.out(x);
      return;
    }
    Value b = cx.add(Op.BROADCAST, Attrs.of("dims", List.copyOf(wide)), cx.reshape(x, spread));
    cx.out(cx.reshape(b, out));
  }

  /**
   * Range of constant operands, folded into a tensor: max(ceil((limit - start) / delta), 0)
   * elements, each the previous plus delta (ONNX Runtime's accumulation, in the element type).
   */
  private static void range(ImportContext cx) {
    Tensor start = constScalar(cx, 0, "start");
    Tensor limit = constScalar(cx, 1, "limit");
    Tensor delta = constScalar(cx, 2, "delta");
    DType dt = start.dtype();
    if (limit.dtype() != dt || delta.dtype() != dt || dt == DType.BOOL) {
      throw new ImportException(
          "ONNX operator "
              + cx.describe()
              + ": operands of types "
              + dt
              + ", "
              + limit.dtype()
              + ", "
              + delta.dtype());
    }
    double s0 = start.get(0);
    double d = delta.get(0);
    if (d == 0) {
      throw new ImportException("ONNX operator " + cx.describe() + ": delta is 0");
    }
    long n = Math.max((long) Math.ceil((limit.get(0) - s0) / d), 0);
    if (n > Integer.MAX_VALUE) {
      throw cx.unsupportedHere("a range of " + n + " elements");
    }
    long[] shape = {n};
    Tensor t;
    if (dt == DType.F64) {
      double[] v = new double[(int) n];
      double acc = s0;
      for (int i = 0; i < n; i++, acc += d) {
        v[i] = acc;
      }
      t = Tensor.ofDoubles(shape, v);
    } else if (dt.isFloat()) {
      float[] v = new float[(int) n];
      float acc = (float) s0;
      for (int i = 0; i < n; i++, acc += (float) d) {
        v[i] = acc;
      }
      t = Tensor.ofFloats(dt, shape, v);
    } else {
      long[] v = new long[(int) n];
      long acc = start.longs()[0];
      long step = delta.longs()[0];
      for (int i = 0; i < n; i++, acc += step) {
        v[i] = acc;
      }
      t = Tensor.ofLongs(dt, shape, v);
    }
    cx.out(0, ImportValue.tensor(t, null));
  }

  /** Operand {@code i}, a one-element tensor known at import time. */
  private static Tensor constScalar(ImportContext cx, int i, String what) {
    ImportValue v = cx.need(i);
    if (v.tensor != null && v.tensor.size() == 1) {
      return v.tensor;
    }
    if (v.dims != null && v.dims.size() == 1 && v.dims.get(0).isKnown()) {
      return Tensor.ofLongs(v.dimsType, new long[0], new long[] {v.dims.get(0).value()});
    }
    throw cx.unsupportedHere("a " + what + " computed at run time");
  }

  private static void flatten(ImportContext cx) {
    ImportValue x = cx.need(0);
    TensorType t = cx.type(x);
    long a = cx.attrInt("axis", 1);
    int ax = a < 0 ? (int) (a + t.rank()) : (int) a;
    if (ax < 0 || ax > t.rank()) {
      throw new ImportException(
          "ONNX operator " + cx.describe() + ": axis " + a + " is out of range");
    }
    cx.out(
        cx.reshape(
            cx.val(x),
            List.of(product(t.dims().subList(0, ax)), product(t.dims().subList(ax, t.rank())))));
  }

  private static void transpose(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    long[] perm = cx.attrInts("perm");
    if (perm == null) {
      perm = new long[r];
      for (int i = 0; i < r; i++) {
        perm[i] = r - 1 - i;
      }
    }
    cx.out(cx.add(Op.TRANSPOSE, Attrs.of("perm", perm), x));
  }

  private static void expand(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    List<Dim> target = dimsOf(cx.need(1));
    if (target == null) {
      throw cx.unsupportedHere("a target shape computed at run time");
    }
    cx.noUnknown(target, "target shape");
    cx.out(cx.add(Op.BROADCAST, Attrs.of("dims", List.copyOf(target)), x));
  }

  private static void constant(ImportContext cx) {
    AttributeProto a = cx.node().getAttributeCount() == 1 ? cx.node().getAttribute(0) : null;
    if (a == null) {
      throw new ImportException("ONNX operator " + cx.describe() + " needs exactly one attribute");
    }
    String name = cx.node().getOutput(0);
    Tensor t =
        switch (a.getName()) {
          case "value" -> cx.tensor(a.getT(), "Constant '" + name + "'");
          case "value_float" -> Tensor.ofFloats(new long[0], new float[] {a.getF()});
          case "value_floats" -> {
            float[] f = new float[a.getFloatsCount()];
            for (int i = 0; i < f.length; i++) {
              f[i] = a.getFloats(i);
            }
            yield Tensor.ofFloats(new long[] {f.length}, f);
          }
          case "value_int" -> Tensor.ofLongs(new long[0], new long[] {a.getI()});
          case "value_ints" ->
              Tensor.ofLongs(new long[] {a.getIntsCount()}, cx.attrInts("value_ints"));
          default -> throw cx.unsupportedHere("attribute '" + a.getName() + "'");
        };
    cx.out(0, ImportValue.tensor(t, name));
  }

  private static void shape(ImportContext cx) {
    List<Dim> dims = cx.type(cx.need(0)).dims();
    int r = dims.size();
    long start = cx.attrInt("start", 0);
    long end = cx.attrInt("end", r);
    start = Math.max(0, Math.min(r, start < 0 ? start + r : start));
    end = Math.max(start, Math.min(r, end < 0 ? end + r : end));
    cx.out(0, ImportValue.dims(dims.subList((int) start, (int) end), false, DType.I64));
  }

  private static void reshapeOp(ImportContext cx) {
    ImportValue x = cx.need(0);
    List<Dim> target;
    if (cx.opset() < 5) {
      long[] s = cx.attrInts("shape");
      if (s == null) {
        throw new ImportException("ONNX operator " + cx.describe() + " has no shape");
      }
      target = new ArrayList<>();
      for (long v : s) {
        target.add(Dim.of(v));
      }
    } else {
      target = dimsOf(cx.need(1));
      if (target == null) {
        throw cx.unsupportedHere(
            "a target shape computed at run time (not from Shape and constants)");
      }
    }
    List<Dim> in = cx.type(x).dims();
    boolean allowZero = cx.attrInt("allowzero", 0) != 0;
    List<Dim> dims = new ArrayList<>();
    int infer = -1;
    for (int i = 0; i < target.size(); i++) {
      Dim d = target.get(i);
      if (d.isKnown() && d.value() == 0 && !allowZero) {
        if (i >= in.size()) {
          throw new ImportException(
              "ONNX operator " + cx.describe() + ": 0 at position " + i + " copies no input dim");
        }
        dims.add(in.get(i));
      } else if (d.isKnown() && d.value() == -1) {
        if (infer >= 0) {
          throw new ImportException(
              "ONNX operator " + cx.describe() + ": more than one -1 in the target shape");
        }
        infer = i;
        dims.add(null);
      } else if (d.isKnown() && d.value() < 0) {
        throw new ImportException(
            "ONNX operator " + cx.describe() + ": negative size " + d.value());
      } else {
        dims.add(d);
      }
    }
    if (infer >= 0) {
      List<Dim> rest = new ArrayList<>(dims);
      rest.remove(infer);
      Dim total = product(in);
      Dim others = product(rest);
      if (total.isUnknown() || others.isUnknown()) {
        throw cx.unsupportedHere("inferring -1 when the input shape " + in + " is not fully known");
      }
      Dim inferred =
          total.isKnown() && others.isKnown() && others.value() != 0
              ? Dim.of(total.value() / others.value())
              : total.div(others);
      dims.set(infer, inferred);
    }
    cx.noUnknown(dims, "target shape");
    if (x.dims != null && dims.size() <= 1 && product(dims).equals(Dim.of(x.dims.size()))) {
      cx.out(0, ImportValue.dims(x.dims, dims.isEmpty(), x.dimsType));
      return;
    }
    cx.out(cx.reshape(cx.val(x), dims));
  }

  private static void concat(ImportContext cx) {
    List<ImportValue> parts = new ArrayList<>();
    for (String name : cx.node().getInputList()) {
      if (!name.isEmpty()) {
        parts.add(cx.get(name));
      }
    }
    boolean fold = false;
    boolean all = true;
    for (ImportValue p : parts) {
      fold |= p.dims != null;
      all &= dimsOf(p) != null && !cx.isScalar(p);
    }
    if (fold && all) {
      List<Dim> r = new ArrayList<>();
      DType dt = null;
      for (ImportValue p : parts) {
        r.addAll(dimsOf(p));
        dt = dt != null ? dt : p.dims != null ? p.dimsType : p.tensor.dtype();
      }
      cx.out(0, ImportValue.dims(r, false, dt));
      return;
    }
    List<Value> vs = new ArrayList<>();
    for (ImportValue p : parts) {
      vs.add(cx.val(p));
    }
    int ax = cx.axis(cx.attrInt("axis", 0), vs.get(0).type().rank());
    cx.out(cx.graph().add(Op.CONCAT, Attrs.of("axis", ax), vs, cx.loc()).out());
  }

  private static void split(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    int ax = cx.axis(cx.attrInt("axis", 0), r);
    long[] sizes =
        cx.opset() < 13
            ? cx.attrInts("split")
            : cx.in(1) == null ? null : cx.constInts(cx.in(1), "split sizes");
    List<Dim> dims = new ArrayList<>();
    if (sizes != null && sizes.length > 0) {
      for (long s : sizes) {
        dims.add(Dim.of(s));
      }
    } else {
      int k = cx.node().getOutputCount();
      boolean numOutputs = cx.attr("num_outputs") != null;
      if (numOutputs) {
        k = (int) cx.attrInt("num_outputs", k);
      }
      Dim d = x.type().dim(ax);
      if (d.isKnown()) {
        long part = (d.value() + k - 1) / k;
        if (numOutputs && d.value() - part * (k - 1) <= 0) {
          throw new ImportException(
              "ONNX operator "
                  + cx.describe()
                  + " splits an axis of "
                  + d.value()
                  + " into "
                  + k
                  + " parts of "
                  + part
                  + ", which leaves none for the last");
        }
        for (int i = 0; i < k; i++) {
          dims.add(Dim.of(Math.max(0, Math.min(part, d.value() - part * i))));
        }
      } else if (numOutputs) {
        // num_outputs (opset 18) makes the last part smaller where k does not divide the size
        throw cx.unsupportedHere("num_outputs over an axis of symbolic size " + d);
      } else {
        for (int i = 0; i < k; i++) {
          dims.add(d.div(Dim.of(k)));
        }
      }
    }
    Node s =
        cx.graph()
            .add(Op.SPLIT, Attrs.of("axis", ax, "sizes", List.copyOf(dims)), List.of(x), cx.loc());
    for (int i = 0; i < dims.size(); i++) {
      cx.out(i, ImportValue.of(s.out(i)));
    }
  }

  private static void slice(ImportContext cx) {
    ImportValue xv = cx.need(0);
    List<Dim> starts;
    List<Dim> ends;
    long[] axes;
    long[] steps = null;
    if (cx.opset() < 10) {
      starts = known(cx.attrInts("starts"));
      ends = known(cx.attrInts("ends"));
      axes = cx.attrInts("axes");
    } else {
      starts = cx.constDims(cx.need(1), "slice start");
      ends = cx.constDims(cx.need(2), "slice end");
      axes = cx.in(3) == null ? null : cx.constInts(cx.in(3), "slice axes");
      steps = cx.in(4) == null ? null : cx.constInts(cx.in(4), "slice steps");
    }
    TensorType t = cx.type(xv);
    int r = t.rank();
    if (axes == null) {
      axes = new long[starts.size()];
      for (int i = 0; i < axes.length; i++) {
        axes[i] = i;
      }
    }
    if (steps != null) {
      for (long s : steps) {
        if (s != 1) {
          throw cx.unsupportedHere("a step other than 1 (" + Arrays.toString(steps) + ")");
        }
      }
    }
    if (xv.dims != null && !xv.scalar && axes.length == 1 && cx.axis(axes[0], 1) == 0) {
      int size = xv.dims.size();
      int s = (int) clampKnown(knownBound(cx, starts.get(0)), size);
      int e = (int) Math.max(s, clampKnown(knownBound(cx, ends.get(0)), size));
      cx.out(0, ImportValue.dims(xv.dims.subList(s, e), false, xv.dimsType));
      return;
    }
    Value x = cx.val(xv);
    for (int i = 0; i < axes.length; i++) {
      int ax = cx.axis(axes[i], r);
      Dim size = x.type().dim(ax);
      Dim s = bound(cx, starts.get(i), size);
      Dim e = bound(cx, ends.get(i), size);
      if (s.equals(Dim.of(0)) && e.equals(size)) {
        continue;
      }
      x = cx.add(Op.SLICE, Attrs.of("axis", ax, "start", s, "end", e), x);
    }
    cx.out(x);
  }

  private static List<Dim> known(long[] v) {
    List<Dim> d = new ArrayList<>();
    for (long x : v) {
      d.add(Dim.of(x));
    }
    return d;
  }

  private static long knownBound(ImportContext cx, Dim d) {
    if (!d.isKnown()) {
      throw cx.unsupportedHere("a symbolic bound (" + d + ") slicing a shape");
    }
    return d.value();
  }

  private static long clampKnown(long v, long size) {
    long x = v < 0 ? v + size : v;
    return Math.max(0, Math.min(size, x));
  }

  /**
   * A slice bound as a dim: clamped when the size is known, else relative to the symbolic size. A
   * symbolic bound (a size read through {@code Shape}, such as a sequence length cutting a table of
   * positions) is taken as it is: it counts elements, so it is not negative, and it is taken to lie
   * within the axis, as it does wherever the original model runs.
   */
  private static Dim bound(ImportContext cx, Dim bound, Dim size) {
    if (!bound.isKnown()) {
      if (bound.isUnknown()) {
        throw cx.unsupportedHere("a slice bound of unknown value");
      }
      return bound.equals(size) ? size : bound;
    }
    long v = bound.value();
    if (size.isKnown()) {
      return Dim.of(clampKnown(v, size.value()));
    }
    if (size.isUnknown()) {
      if (v >= 0 && v < BIG) {
        return Dim.of(v);
      }
      throw cx.unsupportedHere("slicing an axis of unknown size from the end");
    }
    if (v >= BIG) {
      return size;
    }
    if (v < 0) {
      return size.plus(Dim.of(v));
    }
    return Dim.of(v);
  }

  private static long[] axesInput(ImportContext cx, int index) {
    if (cx.opset() < 13) {
      return cx.attrInts("axes");
    }
    ImportValue a = cx.in(index);
    return a == null ? null : cx.constInts(a, "axes");
  }

  private static void squeeze(ImportContext cx) {
    ImportValue xv = cx.need(0);
    long[] axes = axesInput(cx, 1);
    if (xv.dims != null
        && !xv.scalar
        && xv.dims.size() == 1
        && (axes == null || axes.length == 1)) {
      cx.out(0, ImportValue.dims(xv.dims, true, xv.dimsType));
      return;
    }
    Value x = cx.val(xv);
    int r = x.type().rank();
    List<Integer> list = new ArrayList<>();
    if (axes == null || axes.length == 0) {
      for (int i = 0; i < r; i++) {
        Dim d = x.type().dim(i);
        if (!d.isKnown()) {
          continue;
        }
        if (d.value() == 1) {
          list.add(i);
        }
      }
    } else {
      for (long a : axes) {
        list.add(cx.axis(a, r));
      }
    }
    list.sort((p, q) -> Integer.compare(q, p));
    for (int a : list) {
      x = cx.add(Op.SQUEEZE, Attrs.of("axis", a), x);
    }
    cx.out(x);
  }

  private static void unsqueeze(ImportContext cx) {
    ImportValue xv = cx.need(0);
    long[] axes = axesInput(cx, 1);
    if (axes == null) {
      throw new ImportException("ONNX operator " + cx.describe() + " has no axes");
    }
    if (xv.dims != null && xv.scalar && axes.length == 1 && (axes[0] == 0 || axes[0] == -1)) {
      cx.out(0, ImportValue.dims(xv.dims, false, xv.dimsType));
      return;
    }
    if (xv.tensor != null
        && xv.tensor.rank() == 0
        && !xv.tensor.isFloat()
        && axes.length == 1
        && (axes[0] == 0 || axes[0] == -1)) {
      cx.out(0, ImportValue.dims(dimsOf(xv), false, xv.tensor.dtype()));
      return;
    }
    Value x = cx.val(xv);
    int r = x.type().rank() + axes.length;
    List<Integer> list = new ArrayList<>();
    for (long a : axes) {
      list.add(cx.axis(a, r));
    }
    list.sort(Integer::compare);
    for (int a : list) {
      x = cx.add(Op.UNSQUEEZE, Attrs.of("axis", a), x);
    }
    cx.out(x);
  }

  /** Largest constant the importer computes at import time (elements). */
  private static final long MAX_FOLDED = 1L << 20;

  private static void constantOfShape(ImportContext cx) {
    List<Dim> dims = dimsOf(cx.need(0));
    if (dims == null) {
      throw cx.unsupportedHere("a shape computed at run time");
    }
    AttributeProto v = cx.attr("value");
    Tensor fill =
        v == null
            ? Tensor.ofFloats(new long[] {1}, new float[] {0})
            : cx.tensor(v.getT(), "ConstantOfShape value");
    boolean known = true;
    for (Dim d : dims) {
      known &= d.isKnown();
    }
    long count = 1;
    for (Dim d : dims) {
      if (d.isKnown()) {
        if (d.value() < 0) {
          throw new ImportException("ConstantOfShape: negative dim " + d.value() + " in " + dims);
        }
        count =
            d.value() == 0 || count == 0
                ? 0
                : count > MAX_FOLDED / d.value() ? MAX_FOLDED + 1 : count * d.value();
      }
    }
    // a small constant is folded (shape computations need its values); a large one stays a
    // broadcast that ONNX Runtime fills at run time, so no memory is taken at import
    if (known && count <= MAX_FOLDED) {
      long[] shape = new long[dims.size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = dims.get(i).value();
      }
      int n = Math.toIntExact(Tensor.numel(shape));
      Tensor t;
      if (fill.isFloat()) {
        float[] f = new float[n];
        Arrays.fill(f, fill.floats()[0]);
        t = Tensor.ofFloats(fill.dtype(), shape, f);
      } else {
        long[] l = new long[n];
        Arrays.fill(l, fill.longs()[0]);
        t = Tensor.ofLongs(fill.dtype(), shape, l);
      }
      cx.out(
          0,
          fill.dtype().isInteger() && shape.length <= 1
              ? ImportValue.dims(
                  dimsOf(ImportValue.tensor(t, null)), shape.length == 0, fill.dtype())
              : ImportValue.tensor(t, null));
      return;
    }
    cx.noUnknown(dims, "shape");
    Value s = cx.graph().addConst(fill.reshape(new long[0]), cx.loc());
    cx.out(cx.add(Op.BROADCAST, Attrs.of("dims", List.copyOf(dims)), s));
  }
}
