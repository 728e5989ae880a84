package dev.cmod.cli.deploy;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.util.Locale;

/**
 * A KServe deployment: {@code inferenceservice.yaml}, an {@code InferenceService} whose predictor
 * is the ONNX model format on the Triton serving runtime speaking the v2 (Open Inference) protocol,
 * and {@code models/}, the Triton model repository that runtime reads from {@code storageUri} (the
 * same {@link TritonLayout} as {@code --format triton}). The resource's name is the model's name
 * made a DNS label, as Kubernetes requires (lower case, {@code -} for anything else).
 */
public final class KServeLayout {
  /** The folder of the layout that {@code storageUri} must point at. */
  public static final String REPOSITORY = "models";

  private KServeLayout() {}

  public static void addTo(Layout layout, ModelProto m, PackageOptions o) {
    layout.text("inferenceservice.yaml", manifest(o));
    TritonLayout.addTo(layout, REPOSITORY, m, o);
  }

  /** The manifest's text (YAML). */
  public static String manifest(PackageOptions o) {
    return "# written by cmod package: copy models/ to the storage below, then kubectl apply -f this\n"
        + "apiVersion: serving.kserve.io/v1beta1\n"
        + "kind: InferenceService\n"
        + "metadata:\n"
        + "  name: "
        + dnsLabel(o.name())
        + "\n"
        + "spec:\n"
        + "  predictor:\n"
        + "    model:\n"
        + "      modelFormat:\n"
        + "        name: onnx\n"
        + "        version: \"1\"\n"
        + "      runtime: kserve-tritonserver\n"
        + "      protocolVersion: v2\n"
        + "      storageUri: "
        + TritonLayout.quote(o.storageUri())
        + "\n";
  }

  /**
   * {@code name} as a Kubernetes resource name (a DNS-1035 label: a letter first, at most 63
   * characters).
   */
  public static String dnsLabel(String name) {
    String s = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    s = s.replaceAll("^-+", "").replaceAll("-+$", "");
    if (s.isEmpty() || s.charAt(0) < 'a' || s.charAt(0) > 'z') {
      s = "m-" + s; // KServe's names start with a letter (DNS-1035)
    }
    if (s.length() > 63) {
      s = s.substring(0, 63).replaceAll("-+$", "");
    }
    return s.replaceAll("-+$", "");
  }
}
