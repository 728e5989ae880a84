package dev.cmod.onnx;

import java.util.Objects;

/**
 * Options for {@link OnnxEmitter#emit}.
 *
 * @param producerVersion written to the model's producer_version (e.g. the cmod version)
 * @param sourceDocStrings whether nodes get their source location ("file.cmod:12:5") as doc_string
 */
public record EmitOptions(String producerVersion, boolean sourceDocStrings) {
  public EmitOptions {
    Objects.requireNonNull(producerVersion, "producerVersion");
  }

  /** Source locations on, the given producer version. */
  public EmitOptions(String producerVersion) {
    this(producerVersion, true);
  }

  /** Defaults: producer version "0.1.0", source locations on. */
  public static EmitOptions defaults() {
    return new EmitOptions("0.1.0", true);
  }
}
