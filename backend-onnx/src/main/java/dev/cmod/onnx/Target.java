package dev.cmod.onnx;

import java.util.Locale;

/**
 * What the backend may emit: the ONNX operator set an artifact declares, and with it which fused
 * operators the fusion step ({@code emit/FusionRules}) may put in place of the primitives the
 * lowerings compose. The default, {@link #ONNX17}, is the most portable; a newer opset or ONNX
 * Runtime's {@code com.microsoft} domain lets a runtime that lacks graph fusion (or runs at a low
 * optimization level) get the fused kernels from the artifact itself. Every target's artifact
 * computes the same values; only the operators differ.
 */
public enum Target {
  /** Opset 17: primitives only (GELU as Erf, attention as MatMul/Softmax/MatMul), plus Gemm. */
  ONNX17(17, 8, false),
  /** Opset 20: also {@code Gelu}. */
  ONNX20(20, 9, false),
  /** Opset 23: also {@code Attention} and {@code RMSNormalization}. */
  ONNX23(23, 11, false),
  /**
   * Opset 17 plus ONNX Runtime's {@code com.microsoft} domain: MultiHeadAttention,
   * SkipLayerNormalization, SkipSimplifiedLayerNormalization, BiasGelu, FastGelu, Gelu and
   * FusedMatMul. Only ONNX Runtime runs these artifacts.
   */
  ORT(17, 8, true);

  /** The domain of ONNX Runtime's contributed operators. */
  public static final String MICROSOFT = "com.microsoft";

  /** The version of {@link #MICROSOFT} the fused operators are taken from. */
  public static final long MICROSOFT_VERSION = 1;

  private final int opset;
  private final int irVersion;
  private final boolean microsoft;

  Target(int opset, int irVersion, boolean microsoft) {
    this.opset = opset;
    this.irVersion = irVersion;
    this.microsoft = microsoft;
  }

  /** The version of the default ("") operator domain the artifact imports. */
  public int opset() {
    return opset;
  }

  /** The ModelProto ir_version that goes with {@link #opset()}. */
  public int irVersion() {
    return irVersion;
  }

  /** Whether the artifact imports {@link #MICROSOFT} (ONNX Runtime's fused operators). */
  public boolean microsoft() {
    return microsoft;
  }

  /** The name on the command line: onnx17, onnx20, onnx23, ort. */
  public String text() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The target named {@code text} (as {@link #text()} writes it); fails for another name. */
  public static Target parse(String text) {
    for (Target t : values()) {
      if (t.text().equals(text)) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "unknown target '" + text + "' (expected onnx17, onnx20, onnx23 or ort)");
  }
}
