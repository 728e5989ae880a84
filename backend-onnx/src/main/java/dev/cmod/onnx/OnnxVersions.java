package dev.cmod.onnx;

/**
 * The ONNX versions of the default target ({@link Target#ONNX17}) and of the importer, which raises
 * or upgrades every model to this opset; the other targets' versions are in {@link Target}.
 */
public final class OnnxVersions {
  /** Opset version of the default ("") operator domain. */
  public static final int OPSET = 17;

  /** The operator domain the opset applies to (the default ONNX domain). */
  public static final String DOMAIN = "";

  /** The ModelProto ir_version. */
  public static final int IR_VERSION = 8;

  private OnnxVersions() {}
}
