package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.util.ArrayList;
import java.util.List;

/**
 * ONNX's Resize with constant scales or sizes, raised as a separable resampling: along each resized
 * axis every output cell is a weighted sum of a few input cells (one for nearest, two for linear,
 * four for cubic) whose positions and weights depend only on the sizes, so they are computed here,
 * in single precision with ONNX Runtime's formulas, and the axis becomes takes of constant indices
 * scaled by constant weights. An integer nearest upsampling is a broadcast instead. Upsample and
 * Resize-10 are read with the modes ONNX Runtime gives them (as {@link OpsetUpgrade} does).
 * Run-time scales, regions of interest (tf_crop_and_resize), antialiasing and the attributes of
 * later opsets are carried opaque.
 */
final class Resampling {
  private Resampling() {}

  /** The input cells and weights of one output cell along an axis. */
  private record Taps(long[] index, float[] weight) {
    /** The tap of weight 1 when every other weight is 0; -1 otherwise. */
    int one() {
      int k = -1;
      for (int t = 0; t < weight.length; t++) {
        if (weight[t] == 1f && k < 0) {
          k = t;
        } else if (weight[t] != 0f) {
          return -1;
        }
      }
      return k;
    }
  }

  static void resize(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    String mode = cx.attrString("mode", "nearest");
    if (cx.opset() < 11) {
      old(cx, x, mode, constScales(cx, cx.in(1), r), true);
      return;
    }
    String coord = cx.attrString("coordinate_transformation_mode", "half_pixel");
    String nearest = cx.attrString("nearest_mode", "round_prefer_floor");
    if (cx.attrInt("antialias", 0) != 0
        || cx.attr("axes") != null
        || !cx.attrString("keep_aspect_ratio_policy", "stretch").equals("stretch")) {
      throw cx.unsupportedHere("antialias, axes or keep_aspect_ratio_policy");
    }
    if (!List.of("nearest", "linear", "cubic").contains(mode)
        || !mode.equals("nearest") && !x.type().dtype().isFloat()) {
      throw cx.unsupportedHere("mode '" + mode + "' on " + x.type().dtype());
    }
    if (!List.of(
            "half_pixel",
            "pytorch_half_pixel",
            "align_corners",
            "asymmetric",
            "tf_half_pixel_for_nn")
        .contains(coord)) {
      throw cx.unsupportedHere("coordinate_transformation_mode '" + coord + "'");
    }
    ImportValue scalesIn = cx.in(2);
    ImportValue sizesIn = cx.in(3);
    float[] scales = new float[r];
    long[] out = new long[r];
    if (sizesIn != null && !cx.type(sizesIn).dims().equals(List.of(Dim.of(0)))) {
      // sizes read through Shape keep a symbolic axis (the batch, say) as it is
      List<Dim> sizes = cx.constDims(sizesIn, "sizes");
      if (sizes.size() != r) {
        throw new ImportException(
            "ONNX operator " + cx.describe() + ": sizes must have " + r + " elements");
      }
      for (int a = 0; a < r; a++) {
        Dim d = x.type().dim(a);
        Dim s = sizes.get(a);
        if (s.equals(d)) {
          out[a] = d.isKnown() ? d.value() : -1;
          scales[a] = 1f;
          continue;
        }
        if (!d.isKnown() || !s.isKnown()) {
          throw cx.unsupportedHere("sizes " + sizes + " for " + x.type());
        }
        out[a] = s.value();
        scales[a] = (float) s.value() / d.value();
      }
    } else {
      float[] s = constScales(cx, scalesIn, r);
      for (int a = 0; a < r; a++) {
        scales[a] = s[a];
        Dim d = x.type().dim(a);
        if (!d.isKnown()) {
          out[a] = -1; // resample checks that a symbolic axis is kept or repeated
        } else {
          out[a] = (long) (d.value() * s[a]);
        }
      }
    }
    String[] nearestModes = new String[r];
    java.util.Arrays.fill(nearestModes, nearest);
    float a3 = cx.attrFloat("cubic_coeff_a", -0.75f);
    boolean exclude = cx.attrInt("exclude_outside", 0) != 0;
    cx.out(resample(cx, x, mode, coord, nearestModes, scales, out, a3, exclude));
  }

  /**
   * Upsample (before opset 10), with its scales in an input (9), an attribute (7, 8) or two
   * attributes (before 7).
   */
  static void upsample(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    float[] scales;
    if (cx.opset() >= 9) {
      scales = constScales(cx, cx.in(1), r);
    } else if (cx.opset() >= 7) {
      var a = cx.attr("scales");
      if (a == null || a.getFloatsCount() != r) {
        throw new ImportException("ONNX operator " + cx.describe() + " needs " + r + " scales");
      }
      scales = new float[r];
      for (int i = 0; i < r; i++) {
        scales[i] = a.getFloats(i);
      }
    } else {
      if (r != 4) {
        throw new ImportException("ONNX operator " + cx.describe() + " needs [N, C, H, W]");
      }
      scales =
          new float[] {1, 1, cx.attrFloat("height_scale", 1f), cx.attrFloat("width_scale", 1f)};
    }
    String mode = cx.attrString("mode", "nearest");
    old(cx, x, mode.equals("bilinear") ? "linear" : mode, scales, false);
  }

  /**
   * Upsample and Resize-10 as ONNX Runtime ran them: asymmetric coordinates, nearest rounding down
   * where an axis grows and (Resize-10) up where it shrinks.
   */
  private static void old(
      ImportContext cx, Value x, String mode, float[] scales, boolean shrinkRoundsUp) {
    if (!mode.equals("nearest") && !mode.equals("linear")
        || mode.equals("linear") && !x.type().dtype().isFloat()) {
      throw cx.unsupportedHere("mode '" + mode + "' on " + x.type().dtype());
    }
    int r = scales.length;
    long[] out = new long[r];
    String[] nearestModes = new String[r];
    for (int a = 0; a < r; a++) {
      Dim d = x.type().dim(a);
      out[a] = d.isKnown() ? (long) (d.value() * scales[a]) : -1;
      nearestModes[a] = shrinkRoundsUp && scales[a] < 1f ? "ceil" : "floor";
    }
    cx.out(resample(cx, x, mode, "asymmetric", nearestModes, scales, out, -0.75f, false));
  }

  /** Constant scales, one per axis. */
  private static float[] constScales(ImportContext cx, ImportValue v, int r) {
    if (v == null || v.tensor == null || !v.tensor.isFloat()) {
      throw cx.unsupportedHere("scales computed at run time");
    }
    float[] s = v.tensor.floats();
    if (s.length != r) {
      throw new ImportException(
          "ONNX operator " + cx.describe() + ": scales must have " + r + " elements");
    }
    return s;
  }

  /** {@code x} resampled axis by axis to {@code out} cells. */
  private static Value resample(
      ImportContext cx,
      Value x,
      String mode,
      String coord,
      String[] nearest,
      float[] scales,
      long[] out,
      float a3,
      boolean exclude) {
    int r = x.type().rank();
    // ONNX Runtime interpolates the last two axes of [H, W] or [N, C, H, W] (N and C of scale 1)
    int first = 0;
    if (!mode.equals("nearest")) {
      if (r != 2 && r != 4 || r == 4 && (scales[0] != 1f || scales[1] != 1f)) {
        throw cx.unsupportedHere(mode + " resizing of a rank-" + r + " tensor");
      }
      first = r - 2;
    }
    for (int a = first; a < r; a++) {
      Dim d = x.type().dim(a);
      if (!d.isKnown()) {
        // a symbolic axis: kept, or each cell repeated where the coordinates say so for any size
        if (scales[a] == 1f) {
          continue;
        }
        long f = (long) scales[a];
        if (!mode.equals("nearest")
            || f != scales[a]
            || f < 2
            || !repeatsAtAnySize(coord, nearest[a], f)) {
          throw cx.unsupportedHere("a resize by " + scales[a] + " of an axis of size " + d);
        }
        x = repeat(cx, x, a, f);
        continue;
      }
      long in = d.value();
      if (out[a] <= 0 || in <= 0) {
        throw cx.unsupportedHere("a resize to or from an empty axis");
      }
      if (scales[a] == 1f && out[a] == in) {
        continue; // ONNX Runtime copies an axis of scale 1 whatever the coordinates say
      }
      List<Taps> taps = new ArrayList<>();
      boolean single = true;
      for (long o = 0; o < out[a]; o++) {
        float c = original(coord, o, scales[a], in, out[a]);
        Taps t =
            switch (mode) {
              case "nearest" -> nearest(nearest[a], c, in);
              case "linear" -> linear(c, in);
              default -> cubic(c, in, a3, exclude);
            };
        taps.add(t);
        single &= t.one() >= 0;
      }
      if (single) {
        // every cell a copy of one input cell (a scale of 1, say): no weighted sum
        taps.replaceAll(t -> new Taps(new long[] {t.index()[t.one()]}, new float[] {1f}));
      }
      x = along(cx, x, a, taps, in);
    }
    return x;
  }

  /**
   * Whether nearest resizing by the integer {@code f} maps output cell o to input cell o / f
   * whatever the axis's size: asymmetric coordinates rounded down (or to the nearer, ties down, for
   * f = 2), half-pixel ones rounded to the nearer (never a tie), tf_half_pixel_for_nn rounded down.
   */
  private static boolean repeatsAtAnySize(String coord, String nearest, long f) {
    return switch (coord) {
      case "asymmetric" ->
          nearest.equals("floor") || f == 2 && nearest.equals("round_prefer_floor");
      case "half_pixel", "pytorch_half_pixel" -> nearest.startsWith("round_prefer_");
      case "tf_half_pixel_for_nn" -> nearest.equals("floor");
      default -> false;
    };
  }

  /** The input coordinate of output cell {@code o} (ONNX Runtime's single-precision formulas). */
  private static float original(String coord, long o, float scale, long in, long out) {
    float x = o;
    return switch (coord) {
      case "half_pixel" -> (x + 0.5f) / scale - 0.5f;
      case "pytorch_half_pixel" -> out > 1 ? (x + 0.5f) / scale - 0.5f : 0f;
      case "align_corners" -> out == 1 ? 0f : x * (in - 1) / (out - 1);
      case "tf_half_pixel_for_nn" -> (x + 0.5f) / scale;
      default -> x / scale;
    };
  }

  private static Taps nearest(String how, float c, long in) {
    long i =
        switch (how) {
          case "floor" -> (long) Math.floor(c);
          case "ceil" -> (long) Math.ceil(c);
          case "round_prefer_ceil" -> c == (long) c + 0.5f ? (long) Math.ceil(c) : roundAway(c);
          default -> c == (long) c + 0.5f ? (long) Math.floor(c) : roundAway(c);
        };
    return new Taps(new long[] {Math.max(0, Math.min(i, in - 1))}, new float[] {1f});
  }

  /** Rounding half away from zero (C's round). */
  private static long roundAway(float c) {
    return (long) (Math.signum(c) * Math.floor(Math.abs(c) + 0.5f));
  }

  private static Taps linear(float c, long in) {
    float x = Math.max(0f, Math.min(c, in - 1));
    long i1 = Math.min((long) x, in - 1);
    long i2 = Math.min(i1 + 1, in - 1);
    float d1 = Math.abs(x - i1);
    float d2 = Math.abs(x - i2);
    if (i1 == i2) {
      d1 = 0.5f;
      d2 = 0.5f;
    }
    return new Taps(new long[] {i1, i2}, new float[] {d2, d1});
  }

  private static Taps cubic(float c, long in, float a, boolean exclude) {
    long f = (long) Math.floor(c);
    float s = c - f;
    float[] w = {
      ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a,
      ((a + 2) * s - (a + 3)) * s * s + 1,
      ((a + 2) * (1 - s) - (a + 3)) * (1 - s) * (1 - s) + 1,
      ((a * (2 - s) - 5 * a) * (2 - s) + 8 * a) * (2 - s) - 4 * a
    };
    long[] idx = new long[4];
    float sum = 0;
    for (int t = 0; t < 4; t++) {
      long i = f - 1 + t;
      if (exclude && (i < 0 || i >= in)) {
        w[t] = 0;
      }
      idx[t] = Math.max(0, Math.min(i, in - 1));
      sum += w[t];
    }
    if (exclude) {
      for (int t = 0; t < 4; t++) {
        w[t] /= sum;
      }
    }
    return new Taps(idx, w);
  }

  /** Axis {@code a} of {@code x} resampled by {@code taps} (one per output cell). */
  private static Value along(ImportContext cx, Value x, int a, List<Taps> taps, long in) {
    int n = taps.size();
    int width = taps.get(0).index().length;
    if (width == 1 && n == in && identity(taps)) {
      return x;
    }
    if (width == 1 && n % in == 0 && repeats(taps, n / in)) {
      return repeat(cx, x, a, n / in);
    }
    DType dt = x.type().dtype();
    int r = x.type().rank();
    long[] wshape = new long[r];
    java.util.Arrays.fill(wshape, 1);
    wshape[a] = n;
    Value sum = null;
    for (int t = 0; t < width; t++) {
      long[] idx = new long[n];
      float[] w = new float[n];
      boolean zero = true;
      for (int o = 0; o < n; o++) {
        idx[o] = taps.get(o).index()[t];
        w[o] = taps.get(o).weight()[t];
        zero &= w[o] == 0;
      }
      if (zero) {
        continue;
      }
      Value v = take(cx, x, a, idx);
      if (width > 1) {
        v = cx.add(Op.MUL, v, cx.graph().addConst(Tensor.ofFloats(dt, wshape, w), cx.loc()));
      }
      sum = sum == null ? v : cx.add(Op.ADD, sum, v);
    }
    return sum;
  }

  private static boolean identity(List<Taps> taps) {
    for (int o = 0; o < taps.size(); o++) {
      if (taps.get(o).index()[0] != o) {
        return false;
      }
    }
    return true;
  }

  private static boolean repeats(List<Taps> taps, long f) {
    for (int o = 0; o < taps.size(); o++) {
      if (taps.get(o).index()[0] != o / f) {
        return false;
      }
    }
    return true;
  }

  /** Each cell of axis {@code a} repeated {@code f} times in place (a broadcast). */
  private static Value repeat(ImportContext cx, Value x, int a, long f) {
    List<Dim> dims = x.type().dims();
    List<Dim> spread = new ArrayList<>(dims.subList(0, a + 1));
    spread.add(Dim.of(1));
    spread.addAll(dims.subList(a + 1, dims.size()));
    List<Dim> wide = new ArrayList<>(spread);
    wide.set(a + 1, Dim.of(f));
    List<Dim> out = new ArrayList<>(dims);
    out.set(a, dims.get(a).times(Dim.of(f)));
    Value b = cx.add(Op.BROADCAST, Attrs.of("dims", List.copyOf(wide)), cx.reshape(x, spread));
    return cx.reshape(b, out);
  }

  /**
   * Axis {@code a} of {@code x} padded by copies of its edge cells, or by its cells mirrored about
   * the edge ({@code reflect}, the edge itself not repeated): a take of the mapped positions.
   */
  static Value padAlong(
      ImportContext cx, Value x, int a, long before, long after, boolean reflect) {
    Dim d = x.type().dim(a);
    if (!d.isKnown() || d.value() == 0 || reflect && (before >= d.value() || after >= d.value())) {
      throw cx.unsupportedHere((reflect ? "reflect" : "edge") + " pads on an axis of size " + d);
    }
    long len = d.value();
    long[] idx = new long[(int) (before + len + after)];
    for (int o = 0; o < idx.length; o++) {
      long i = o - before;
      if (reflect) {
        idx[o] = i < 0 ? -i : i >= len ? 2 * (len - 1) - i : i;
      } else {
        idx[o] = Math.max(0, Math.min(i, len - 1));
      }
    }
    return take(cx, x, a, idx);
  }

  /** The cells {@code idx} of axis {@code a} (a take on the axis moved to the front). */
  private static Value take(ImportContext cx, Value x, int a, long[] idx) {
    Value ids = cx.graph().addConst(Tensor.ofLongs(new long[] {idx.length}, idx), cx.loc());
    if (a == 0) {
      return cx.add(Op.TAKE, x, ids);
    }
    int r = x.type().rank();
    long[] front = new long[r];
    long[] back = new long[r];
    front[0] = a;
    for (int i = 0, j = 1; i < r; i++) {
      if (i != a) {
        front[j++] = i;
      }
    }
    for (int i = 0; i < r; i++) {
      back[(int) front[i]] = i;
    }
    Value t = cx.add(Op.TAKE, cx.add(Op.TRANSPOSE, Attrs.of("perm", front), x), ids);
    return cx.add(Op.TRANSPOSE, Attrs.of("perm", back), t);
  }
}
