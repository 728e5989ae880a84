package dev.cmod.cli.deploy;

import ai.onnx.proto.OnnxMl.ModelProto;

/**
 * A DJL Serving model folder: {@code NAME/serving.properties} and {@code NAME/NAME.onnx} (DJL's
 * ONNX Runtime engine loads the {@code .onnx} file named after the folder), with its external data
 * beside it. The properties use only keys of DJL Serving's model configuration ({@link #KEYS}): the
 * engine, the dynamic batch size and the longest wait for a batch to fill. Without a translator DJL
 * serves the raw tensors (its no-op serving translator), which is what the artifact takes: decoding
 * and tokenizing stay with the client (see the layout's README.txt).
 */
public final class DjlLayout {
  /**
   * The serving.properties keys a layout writes, as DJL Serving's model configuration names them.
   */
  public static final java.util.List<String> KEYS =
      java.util.List.of("engine", "batch_size", "max_batch_delay");

  /** DJL's name of its ONNX Runtime engine. */
  public static final String ENGINE = "OnnxRuntime";

  private DjlLayout() {}

  public static void addTo(Layout layout, ModelProto m, PackageOptions o) {
    String dir = o.name();
    layout.text(dir + "/serving.properties", properties(ServingSignature.of(m), o));
    ModelFiles.of(m, o.externalData(), o.name() + ".onnx").addTo(layout, dir);
  }

  /** The text of {@code serving.properties}; an unbatched model gets batch size 1. */
  public static String properties(ServingSignature sig, PackageOptions o) {
    return "# written by cmod package; DJL Serving model configuration\n"
        + "engine="
        + ENGINE
        + "\n"
        + "batch_size="
        + (sig.batched() ? o.maxBatchSize() : 1)
        + "\n"
        + "max_batch_delay="
        + o.maxBatchDelayMillis()
        + "\n";
  }
}
