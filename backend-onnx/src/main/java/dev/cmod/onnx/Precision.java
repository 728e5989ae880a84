package dev.cmod.onnx;

import java.util.Locale;

/**
 * The floating-point precision of an artifact's computation. {@link #F32} emits the graph as the
 * compiler built it; {@link #F16} emits a half-precision artifact (the backend's {@code
 * emit/HalfPrecision} step): f32 parameters stored as f16 and f32 arithmetic done in f16, while the
 * normalizations, softmax and the accumulating reductions stay f32, and the graph's inputs and
 * outputs keep their declared types. It lives in {@link EmitOptions} beside the target because it
 * is a choice of how to emit the same IR, which the compiler's passes never see.
 */
public enum Precision {
  /** As declared: the default. */
  F32,
  /** Half precision, with f32 islands for norms, softmax and reductions. */
  F16;

  /** The name on the command line: f32, f16. */
  public String text() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The precision named {@code text} (as {@link #text()} writes it); fails for another name. */
  public static Precision parse(String text) {
    for (Precision p : values()) {
      if (p.text().equals(text)) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown precision '" + text + "' (expected f16 or f32)");
  }
}
