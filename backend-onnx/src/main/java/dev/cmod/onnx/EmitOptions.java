package dev.cmod.onnx;

import java.util.Objects;

/**
 * Options for {@link OnnxEmitter#emit}. The target and the precision live here, not in the
 * compiler's options: the IR and its passes are the same for every target and precision, and only
 * the backend knows ONNX operators.
 *
 * @param producerVersion written to the model's producer_version (e.g. the cmod version)
 * @param sourceDocStrings whether nodes get their source location ("file.cmod:12:5") as doc_string
 * @param target what the backend may emit (opset, fused operators)
 * @param precision f32 (as declared) or f16 (half precision with f32 norms, softmax and reductions)
 */
public record EmitOptions(
    String producerVersion, boolean sourceDocStrings, Target target, Precision precision) {
  public EmitOptions {
    Objects.requireNonNull(producerVersion, "producerVersion");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(precision, "precision");
  }

  /** The given target at f32. */
  public EmitOptions(String producerVersion, boolean sourceDocStrings, Target target) {
    this(producerVersion, sourceDocStrings, target, Precision.F32);
  }

  /** The default target. */
  public EmitOptions(String producerVersion, boolean sourceDocStrings) {
    this(producerVersion, sourceDocStrings, Target.ONNX17);
  }

  /** Source locations on, the given producer version, the default target. */
  public EmitOptions(String producerVersion) {
    this(producerVersion, true);
  }

  /** Defaults: producer version "0.1.0", source locations on, target onnx17, f32. */
  public static EmitOptions defaults() {
    return new EmitOptions("0.1.0", true);
  }

  /** These options with another target. */
  public EmitOptions withTarget(Target t) {
    return new EmitOptions(producerVersion, sourceDocStrings, t, precision);
  }

  /** These options with another precision. */
  public EmitOptions withPrecision(Precision p) {
    return new EmitOptions(producerVersion, sourceDocStrings, target, p);
  }
}
