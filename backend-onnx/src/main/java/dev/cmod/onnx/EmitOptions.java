package dev.cmod.onnx;

import java.util.Objects;

/**
 * Options for {@link OnnxEmitter#emit}. The target lives here, not in the compiler's options: the
 * IR and its passes are the same for every target, and only the backend knows ONNX operators.
 *
 * @param producerVersion written to the model's producer_version (e.g. the cmod version)
 * @param sourceDocStrings whether nodes get their source location ("file.cmod:12:5") as doc_string
 * @param target what the backend may emit (opset, fused operators)
 */
public record EmitOptions(String producerVersion, boolean sourceDocStrings, Target target) {
  public EmitOptions {
    Objects.requireNonNull(producerVersion, "producerVersion");
    Objects.requireNonNull(target, "target");
  }

  /** The default target. */
  public EmitOptions(String producerVersion, boolean sourceDocStrings) {
    this(producerVersion, sourceDocStrings, Target.ONNX17);
  }

  /** Source locations on, the given producer version, the default target. */
  public EmitOptions(String producerVersion) {
    this(producerVersion, true);
  }

  /** Defaults: producer version "0.1.0", source locations on, target onnx17. */
  public static EmitOptions defaults() {
    return new EmitOptions("0.1.0", true);
  }

  /** These options with another target. */
  public EmitOptions withTarget(Target t) {
    return new EmitOptions(producerVersion, sourceDocStrings, t);
  }
}
