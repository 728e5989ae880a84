package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.Codec;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code from image(...)}: checks the steps against the declared {@code Image[C, H, W]} and adds
 * the value steps (scale, then per-channel mean and std) to the graph. Geometry — decoding,
 * resizing, cropping, padding — depends on each file's size and runs on the host; the size it gives
 * must be the declared one wherever the steps fix it, which is checked here.
 */
final class ImageCodec {
  private ImageCodec() {}

  /** The largest side a step may name. */
  static final long MAX_SIDE = 1 << 16;

  private static final long AS_DECODED = -1;
  private static final long VARIES = -2;

  static Value check(
      ElabContext el,
      Codec c,
      TensorType t,
      Map<String, Object> args,
      Value v,
      List<String> graph,
      List<String> host) {
    if (t.rank() != 4 || !t.dim(1).isKnown() || !List.of(1L, 3L).contains(t.dim(1).value())) {
      el.fail(
          DiagnosticCode.CODEC,
          c.kind().span(),
          "image(...) needs an input of 1 or 3 channels with a batch axis (Image[3, H, W]), got "
              + t,
          null);
    }
    long ch = t.dim(1).value();
    for (String k : List.of("height", "max_width", "pad_width", "pad_height")) {
      if (args.get(k) instanceof Long n) {
        side(el, c, k, n);
      }
    }
    long[] resize = size(el, c, args.get("resize"), "resize");
    long[] crop = size(el, c, args.get("crop"), "crop");
    if (resize != null && args.containsKey("height")) {
      el.fail(
          DiagnosticCode.CODEC,
          Codecs.argSpan(c, "height"),
          "resize and height both set the size",
          "use resize = S (shorter side) or [H, W], or height = H to keep the aspect ratio");
    }
    if (args.containsKey("max_width") && !args.containsKey("height")) {
      el.fail(
          DiagnosticCode.CODEC,
          Codecs.argSpan(c, "max_width"),
          "max_width applies with height = H",
          null);
    }
    String interp = (String) args.get("interpolation");
    if (ch == 1 && args.get("order").equals("bgr")) {
      el.fail(
          DiagnosticCode.CODEC,
          Codecs.argSpan(c, "order"),
          "order = \"bgr\" needs 3 channels, the input has 1",
          null);
    }
    host.add(
        "decode PNG/JPEG/BMP/GIF to "
            + (ch == 1 ? "grayscale" : args.get("order").equals("bgr") ? "BGR" : "RGB")
            + " in [0, 1], CHW");
    // the size after each geometric step: AS_DECODED (the file's, checked when it is read) or
    // VARIES (the steps make it depend on the file's aspect ratio)
    long h = AS_DECODED;
    long w = AS_DECODED;
    if (args.get("resize") instanceof List) {
      h = resize[0];
      w = resize[1];
      host.add("resize to " + h + "×" + w + " (" + interp + ")");
    } else if (resize != null) {
      h = VARIES;
      w = VARIES;
      host.add("resize the shorter side to " + resize[0] + " (" + interp + ")");
    } else if (args.get("height") instanceof Long hh) {
      h = hh;
      w = VARIES;
      host.add(
          "resize to height "
              + hh
              + " keeping the aspect ratio"
              + (args.containsKey("max_width") ? ", width at most " + args.get("max_width") : "")
              + " ("
              + interp
              + ")");
    }
    if (crop != null) {
      h = crop[0];
      w = crop[1];
      host.add("center crop " + h + "×" + w);
    }
    if (args.get("pad_height") instanceof Long ph) {
      h = ph;
    }
    if (args.get("pad_width") instanceof Long pw) {
      w = pw;
    }
    if (args.containsKey("pad_height") || args.containsKey("pad_width")) {
      host.add(
          "pad right/bottom to "
              + (args.containsKey("pad_height") ? "height " + args.get("pad_height") + " " : "")
              + (args.containsKey("pad_width") ? "width " + args.get("pad_width") + " " : "")
              + "with "
              + args.get("pad_value")
              + " (in the model's values)");
    }
    agree(el, c, "height", h, t.dim(2));
    agree(el, c, "width", w, t.dim(3));
    double[] mean = DataCodec.numbers(args.get("mean"));
    double[] std = DataCodec.numbers(args.get("std"));
    for (String k : List.of("mean", "std")) {
      double[] x = k.equals("mean") ? mean : std;
      if (x != null && x.length != 1 && x.length != ch) {
        el.fail(
            DiagnosticCode.CODEC,
            Codecs.argSpan(c, k),
            k + " has " + x.length + " values for " + ch + " channel" + (ch == 1 ? "" : "s"),
            "give one value, or one per channel");
      }
    }
    if (std != null && Arrays.stream(std).anyMatch(s -> s == 0 || !Double.isFinite(s))) {
      el.fail(
          DiagnosticCode.CODEC, Codecs.argSpan(c, "std"), "std must be finite and nonzero", null);
    }
    double scale = (Double) args.get("scale");
    if (!Double.isFinite(scale) || scale == 0) {
      el.fail(
          DiagnosticCode.CODEC,
          Codecs.argSpan(c, "scale"),
          "scale must be finite and nonzero",
          null);
    }
    Value out = v;
    var sp = c.span();
    if (scale != 1.0) {
      out =
          el.node(
              Op.MUL,
              Attrs.NONE,
              sp,
              out,
              Codecs.perChannel(el, new double[] {scale}, 1, t.dtype(), sp));
      graph.add("scale by " + scale);
    }
    if (mean != null) {
      out =
          el.node(
              Op.SUB, Attrs.NONE, sp, out, Codecs.perChannel(el, mean, mean.length, t.dtype(), sp));
      graph.add("subtract mean " + Arrays.toString(mean));
    }
    if (std != null) {
      out =
          el.node(
              Op.DIV, Attrs.NONE, sp, out, Codecs.perChannel(el, std, std.length, t.dtype(), sp));
      graph.add("divide by std " + Arrays.toString(std));
    }
    return out;
  }

  /** A size argument as [h, w] (a single S as [S, S]); null when absent. */
  private static long[] size(ElabContext el, Codec c, Object v, String k) {
    if (v == null) {
      return null;
    }
    long[] r =
        v instanceof Long n
            ? new long[] {n, n}
            : new long[] {(Long) ((List<?>) v).get(0), (Long) ((List<?>) v).get(1)};
    side(el, c, k, r[0]);
    side(el, c, k, r[1]);
    return r;
  }

  private static void side(ElabContext el, Codec c, String k, long n) {
    if (n <= 0 || n > MAX_SIDE) {
      el.fail(
          DiagnosticCode.CODEC,
          Codecs.argSpan(c, k),
          k + " = " + n + " is not a size (1 to " + MAX_SIDE + ")",
          null);
    }
  }

  /** The size the steps give must be the declared one where both are fixed. */
  private static void agree(ElabContext el, Codec c, String what, long got, Dim declared) {
    if (declared.isKnown() && got >= 0 && got != declared.value()) {
      el.fail(
          DiagnosticCode.CODEC,
          c.span(),
          "the image steps give "
              + what
              + " "
              + got
              + ", but the input declares "
              + declared.value(),
          "make the last step give the declared size (crop, resize [H, W] or pad_" + what + ")");
    }
    if (declared.isKnown() && got == VARIES) {
      el.fail(
          DiagnosticCode.CODEC,
          c.span(),
          "the image steps leave the "
              + what
              + " to each file, but the input declares "
              + declared.value(),
          "fix it with crop = ..., resize = [H, W] or pad_"
              + what
              + " = "
              + declared.value()
              + ", or declare the "
              + what
              + " symbolic");
    }
  }
}
