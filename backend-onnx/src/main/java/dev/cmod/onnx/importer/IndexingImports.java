package dev.cmod.onnx.importer;

import static dev.cmod.onnx.importer.ImportContext.dimsOf;

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
import java.util.List;
import java.util.Set;

/**
 * Imports of ONNX's indexing operators: Gather (folded on shape vectors; otherwise the IR's take on
 * axis 0, with transposes around it for another axis and ONNX's negative indices mapped),
 * GatherElements and ScatterElements (IR operators of their own), GatherND and ScatterND (through
 * them, on the data's indexed axes merged), TopK, Trilu (a mask), EyeLike (a constant) and
 * ReverseSequence (a gather_elements). The IR's nonzero and scatter_add have no entry: they are
 * sparse routing's 1-D mask positions and row scatter-add, narrower than ONNX's NonZero (any rank,
 * [rank, count] result) and ScatterND (which is raised through scatter_elements instead).
 */
final class IndexingImports {
  private IndexingImports() {}

  static void register(ImportTable.Registrar r) {
    r.add(
        "Gather",
        Set.of(Op.TAKE, Op.TRANSPOSE, Op.WHERE, Op.LESS, Op.ADD),
        IndexingImports::gather);
    r.add("TopK", Set.of(Op.TOPK), IndexingImports::topk);
    r.add("GatherElements", Set.of(Op.GATHER_ELEMENTS), IndexingImports::gatherElements);
    r.add("ScatterElements", Set.of(Op.SCATTER_ELEMENTS), IndexingImports::scatterElements);
    r.add("Scatter", Set.of(Op.SCATTER_ELEMENTS), IndexingImports::scatterElements);
    r.add("EyeLike", Set.of(), IndexingImports::eyeLike);
    r.add(
        "ReverseSequence",
        Set.of(Op.CAST, Op.RESHAPE, Op.LESS, Op.SUB, Op.WHERE, Op.BROADCAST, Op.GATHER_ELEMENTS),
        IndexingImports::reverseSequence);
    r.add(
        "GatherND",
        Set.of(Op.CAST, Op.LESS, Op.ADD, Op.WHERE, Op.MUL, Op.REDUCE_SUM, Op.RESHAPE, Op.TAKE),
        IndexingImports::gatherNd);
    r.add(
        "ScatterND",
        Set.of(
            Op.CAST,
            Op.LESS,
            Op.ADD,
            Op.WHERE,
            Op.MUL,
            Op.REDUCE_SUM,
            Op.RESHAPE,
            Op.BROADCAST,
            Op.SCATTER_ELEMENTS),
        IndexingImports::scatterNd);
    r.add("Trilu", Set.of(Op.WHERE, Op.GREATER_EQUAL, Op.LESS_EQUAL), IndexingImports::trilu);
  }

  /** EyeLike of a matrix of known size: a constant with ones on diagonal k. */
  private static void eyeLike(ImportContext cx) {
    TensorType t = cx.type(cx.need(0));
    if (t.rank() != 2 || !t.dim(0).isKnown() || !t.dim(1).isKnown()) {
      throw cx.unsupportedHere("EyeLike of " + t);
    }
    DType dt =
        cx.attr("dtype") == null
            ? t.dtype()
            : OnnxTypes.dtype((int) cx.attrInt("dtype", 1), "ONNX operator " + cx.describe());
    if (!OnnxTypes.raised(dt)) {
      throw cx.unsupportedHere("a " + dt + " result");
    }
    int n = (int) t.dim(0).value();
    int m = (int) t.dim(1).value();
    long k = cx.attrInt("k", 0);
    long[] shape = {n, m};
    Tensor eye;
    if (dt.isFloat()) {
      float[] v = new float[n * m];
      for (int i = 0; i < n; i++) {
        if (i + k >= 0 && i + k < m) {
          v[(int) (i * m + i + k)] = 1f;
        }
      }
      eye = Tensor.ofFloats(dt, shape, v);
    } else {
      long[] v = new long[n * m];
      for (int i = 0; i < n; i++) {
        if (i + k >= 0 && i + k < m) {
          v[(int) (i * m + i + k)] = 1;
        }
      }
      eye = Tensor.ofLongs(dt, shape, v);
    }
    cx.out(cx.graph().addConst(eye, cx.loc()));
  }

  /**
   * The flat position, in {@code data}'s first {@code k} axes, of each index tuple of {@code ids}
   * ([..., k], negative entries counted from the end): shape {@code ids} without its last axis.
   */
  private static Value tuplePositions(ImportContext cx, Value data, Value ids) {
    int q = ids.type().rank();
    Dim kd = q == 0 ? Dim.of(0) : ids.type().dim(q - 1);
    if (!ids.type().dtype().isInteger() || !kd.isKnown() || kd.value() > data.type().rank()) {
      throw cx.unsupportedHere("indices " + ids.type() + " into " + data.type());
    }
    int k = (int) kd.value();
    long[] sizes = new long[k];
    long[] strides = new long[k];
    for (int i = k - 1; i >= 0; i--) {
      Dim d = data.type().dim(i);
      if (!d.isKnown()) {
        throw cx.unsupportedHere("an indexed axis of size " + d);
      }
      sizes[i] = d.value();
      strides[i] = i == k - 1 ? 1 : strides[i + 1] * sizes[i + 1];
    }
    if (ids.type().dtype() != DType.I64) {
      ids = cx.add(Op.CAST, Attrs.of("to", DType.I64), ids);
    }
    Value size = cx.graph().addConst(Tensor.ofLongs(new long[] {k}, sizes), cx.loc());
    Value stride = cx.graph().addConst(Tensor.ofLongs(new long[] {k}, strides), cx.loc());
    Value norm =
        cx.add(
            Op.WHERE,
            cx.add(Op.LESS, ids, cx.scalar(0, DType.I64)),
            cx.add(Op.ADD, ids, size),
            ids);
    return cx.add(
        Op.REDUCE_SUM, Attrs.of("axis", q - 1, "keep", false), cx.add(Op.MUL, norm, stride));
  }

  /** GatherND (batch_dims 0): a take of the flat positions from the data's indexed axes merged. */
  private static void gatherNd(ImportContext cx) {
    if (cx.attrInt("batch_dims", 0) != 0) {
      throw cx.unsupportedHere("batch_dims = " + cx.attrInt("batch_dims", 0));
    }
    Value data = cx.val(cx.need(0));
    Value ids = cx.val(cx.need(1));
    Value pos = tuplePositions(cx, data, ids);
    int k = (int) ids.type().dim(ids.type().rank() - 1).value();
    List<Dim> dd = data.type().dims();
    List<Dim> table = new ArrayList<>();
    table.add(ImportContext.product(dd.subList(0, k)));
    table.addAll(dd.subList(k, dd.size()));
    cx.out(cx.add(Op.TAKE, cx.reshape(data, table), pos));
  }

  /**
   * ScatterND: the data as rows of its indexed axes, each index tuple naming a row the updates are
   * written to (or added to, multiplied into), a scatter_elements along the rows.
   */
  private static void scatterNd(ImportContext cx) {
    String how = cx.attrString("reduction", "none");
    if (!how.equals("none") && !how.equals("add") && !how.equals("mul")) {
      throw cx.unsupportedHere("reduction '" + how + "'");
    }
    Value data = cx.val(cx.need(0));
    Value ids = cx.val(cx.need(1));
    Value updates = cx.val(cx.need(2));
    Value pos = tuplePositions(cx, data, ids);
    int k = (int) ids.type().dim(ids.type().rank() - 1).value();
    List<Dim> dd = data.type().dims();
    Dim rows = ImportContext.product(dd.subList(0, k));
    Dim row = ImportContext.product(dd.subList(k, dd.size()));
    Dim n = ImportContext.product(pos.type().dims());
    Value at =
        cx.add(
            Op.BROADCAST,
            Attrs.of("dims", List.of(n, row)),
            cx.reshape(pos, List.of(n, Dim.of(1))));
    Value y =
        cx.add(
            Op.SCATTER_ELEMENTS,
            Attrs.of("axis", 0, "reduction", how),
            cx.reshape(data, List.of(rows, row)),
            at,
            cx.reshape(updates, List.of(n, row)));
    cx.out(cx.reshape(y, dd));
  }

  /**
   * ReverseSequence: along the time axis, step t of a sequence of length L reads step L - 1 - t (t
   * below L) or itself, a gather_elements of indices computed from the lengths.
   */
  private static void reverseSequence(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    Value lens = cx.val(cx.need(1));
    int r = x.type().rank();
    int time = cx.axis(cx.attrInt("time_axis", 0), r);
    int batch = cx.axis(cx.attrInt("batch_axis", 1), r);
    Dim steps = x.type().dim(time);
    if (time == batch || !steps.isKnown() || !lens.type().dtype().isInteger()) {
      throw cx.unsupportedHere("ReverseSequence over " + x.type() + " with lengths " + lens.type());
    }
    if (lens.type().dtype() != DType.I64) {
      lens = cx.add(Op.CAST, Attrs.of("to", DType.I64), lens);
    }
    List<Dim> tShape = ImportContext.ones(r);
    tShape.set(time, steps);
    List<Dim> lShape = ImportContext.ones(r);
    lShape.set(batch, x.type().dim(batch));
    long[] iota = new long[(int) steps.value()];
    for (int i = 0; i < iota.length; i++) {
      iota[i] = i;
    }
    long[] ts = new long[r];
    for (int i = 0; i < r; i++) {
      ts[i] = tShape.get(i).value();
    }
    Value t = cx.graph().addConst(Tensor.ofLongs(ts, iota), cx.loc());
    Value len = cx.reshape(lens, lShape);
    Value back = cx.add(Op.SUB, cx.add(Op.SUB, len, cx.scalar(1, DType.I64)), t);
    Value src = cx.add(Op.WHERE, cx.add(Op.LESS, t, len), back, t);
    Value idx = cx.add(Op.BROADCAST, Attrs.of("dims", x.type().dims()), src);
    cx.out(cx.add(Op.GATHER_ELEMENTS, Attrs.of("axis", time), x, idx));
  }

  private static void gatherElements(ImportContext cx) {
    Value data = cx.val(cx.need(0));
    Value ids = cx.val(cx.need(1));
    int ax = cx.axis(cx.attrInt("axis", 0), data.type().rank());
    cx.out(cx.add(Op.GATHER_ELEMENTS, Attrs.of("axis", ax), data, ids));
  }

  /** ScatterElements, and Scatter (its name before opset 11). */
  private static void scatterElements(ImportContext cx) {
    Value data = cx.val(cx.need(0));
    Value ids = cx.val(cx.need(1));
    Value updates = cx.val(cx.need(2));
    int ax = cx.axis(cx.attrInt("axis", 0), data.type().rank());
    String how = cx.attrString("reduction", "none");
    if (!how.equals("none") && !how.equals("add") && !how.equals("mul")) {
      throw cx.unsupportedHere("reduction '" + how + "'");
    }
    cx.out(cx.add(Op.SCATTER_ELEMENTS, Attrs.of("axis", ax, "reduction", how), data, ids, updates));
  }

  /**
   * Trilu over matrices of known size: a mask selecting the kept triangle, the rest zero (a select,
   * so infinities and NaN elsewhere stay out). With a constant k the mask is a constant; with k
   * computed at run time it compares a constant of column minus row with k.
   */
  private static void trilu(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    TensorType t = x.type();
    if (t.rank() < 2) {
      throw new ImportException("ONNX operator " + cx.describe() + " needs a rank of 2 or more");
    }
    Dim rows = t.dim(t.rank() - 2);
    Dim cols = t.dim(t.rank() - 1);
    if (!rows.isKnown() || !cols.isKnown()) {
      throw cx.unsupportedHere("a matrix of size " + rows + " x " + cols);
    }
    boolean upper = cx.attrInt("upper", 1) != 0;
    int n = (int) rows.value();
    int m = (int) cols.value();
    long[] shape = {n, m};
    ImportValue kv = cx.in(1);
    List<Dim> kd = kv == null ? List.of(Dim.of(0)) : dimsOf(kv);
    Value keep;
    if (kd != null && kd.size() == 1 && kd.get(0).isKnown()) {
      long k = kd.get(0).value();
      long[] mask = new long[n * m];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
          mask[i * m + j] = (upper ? j - i >= k : j - i <= k) ? 1 : 0;
        }
      }
      keep = cx.graph().addConst(Tensor.ofLongs(DType.BOOL, shape, mask), cx.loc());
    } else {
      Value k = cx.val(kv);
      if (k.type().dtype() != DType.I64 || k.type().rank() > 1) {
        throw new ImportException("ONNX operator " + cx.describe() + ": k must be an i64 scalar");
      }
      long[] diag = new long[n * m];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
          diag[i * m + j] = j - i;
        }
      }
      Value d = cx.graph().addConst(Tensor.ofLongs(DType.I64, shape, diag), cx.loc());
      keep = cx.add(upper ? Op.GREATER_EQUAL : Op.LESS_EQUAL, d, k);
    }
    cx.out(cx.add(Op.WHERE, keep, x, cx.scalar(0, t.dtype())));
  }

  private static void gather(ImportContext cx) {
    ImportValue data = cx.need(0);
    ImportValue idx = cx.need(1);
    TensorType dt = cx.type(data);
    int ax = cx.axis(cx.attrInt("axis", 0), dt.rank());
    List<Dim> dd = data.dims;
    List<Dim> di = dimsOf(idx);
    if (dd != null && di != null && !data.scalar) {
      List<Dim> r = new ArrayList<>();
      for (Dim i : di) {
        if (!i.isKnown()) {
          throw cx.unsupportedHere("a symbolic index");
        }
        long k = i.value() < 0 ? i.value() + dd.size() : i.value();
        if (k < 0 || k >= dd.size()) {
          throw new ImportException(
              "ONNX operator " + cx.describe() + ": index " + i + " out of range");
        }
        r.add(dd.get((int) k));
      }
      cx.out(0, ImportValue.dims(r, cx.isScalar(idx), data.dimsType));
      return;
    }
    Value ids;
    if (idx.tensor != null && !idx.tensor.isFloat() && dt.dim(ax).isKnown()) {
      long size = dt.dim(ax).value();
      long[] l = idx.tensor.longs().clone();
      for (int i = 0; i < l.length; i++) {
        l[i] = l[i] < 0 ? l[i] + size : l[i];
      }
      ids =
          cx.graph().addConst(Tensor.ofLongs(idx.tensor.dtype(), idx.tensor.shape(), l), cx.loc());
    } else {
      ids = cx.val(idx);
      if (dt.dim(ax).isKnown() && ids.type().dtype().isInteger()) {
        // ONNX counts negative indices from the end
        DType it = ids.type().dtype();
        ids =
            cx.add(
                Op.WHERE,
                cx.add(Op.LESS, ids, cx.scalar(0, it)),
                cx.add(Op.ADD, ids, cx.scalar(dt.dim(ax).value(), it)),
                ids);
      }
    }
    Value x = cx.val(data);
    int r = dt.rank();
    if (ax == 0) {
      cx.out(cx.add(Op.TAKE, x, ids));
      return;
    }
    long[] front = new long[r];
    front[0] = ax;
    for (int i = 0, j = 1; i < r; i++) {
      if (i != ax) {
        front[j++] = i;
      }
    }
    Value taken = cx.add(Op.TAKE, cx.add(Op.TRANSPOSE, Attrs.of("perm", front), x), ids);
    // taken: [idx..., d0..d(ax-1), d(ax+1)...] -> [d0..d(ax-1), idx..., d(ax+1)...]
    int q = ids.type().rank();
    long[] perm = new long[taken.type().rank()];
    int k = 0;
    for (int i = 0; i < ax; i++) {
      perm[k++] = q + i;
    }
    for (int i = 0; i < q; i++) {
      perm[k++] = i;
    }
    for (int i = q + ax; i < perm.length; i++) {
      perm[k++] = i;
    }
    cx.out(cx.add(Op.TRANSPOSE, Attrs.of("perm", perm), taken));
  }

  private static void topk(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    long k;
    if (cx.opset() < 10) {
      k = cx.attrInt("k", -1);
    } else {
      long[] ks = cx.constInts(cx.need(1), "k");
      if (ks.length != 1) {
        throw new ImportException("ONNX operator " + cx.describe() + ": k must have one element");
      }
      k = ks[0];
    }
    if (cx.attrInt("largest", 1) != 1 || cx.attrInt("sorted", 1) != 1) {
      throw cx.unsupportedHere("largest = 0 or sorted = 0");
    }
    int ax = cx.axis(cx.attrInt("axis", -1), x.type().rank());
    Node n = cx.graph().add(Op.TOPK, Attrs.of("axis", ax, "k", k), List.of(x), cx.loc());
    cx.out(0, ImportValue.of(n.out(0)));
    cx.out(1, ImportValue.of(n.out(1)));
  }
}
