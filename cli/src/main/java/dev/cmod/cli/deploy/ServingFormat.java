package dev.cmod.cli.deploy;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.util.List;
import java.util.Locale;

/**
 * The serving engines {@code cmod package} writes for, each with its layout and the README.txt that
 * says how to start it and what the client must do.
 */
public enum ServingFormat {
  TRITON("Triton Inference Server (ONNX Runtime backend)"),
  DJL("DJL Serving (OnnxRuntime engine)"),
  KSERVE("KServe InferenceService (Triton runtime, v2 protocol)");

  public final String title;

  ServingFormat(String title) {
    this.title = title;
  }

  /** The format named {@code s} (case-insensitive), or an exception listing the names. */
  public static ServingFormat parse(String s) {
    for (ServingFormat f : values()) {
      if (f.name().equalsIgnoreCase(s)) {
        return f;
      }
    }
    throw new IllegalArgumentException(
        "unknown format '" + s + "'; expected one of triton, djl, kserve");
  }

  /** The whole layout for {@code m}: the engine's files and a README.txt. */
  public Layout layout(ModelProto m, PackageOptions o) {
    Layout l = new Layout();
    switch (this) {
      case TRITON -> TritonLayout.addTo(l, "", m, o);
      case DJL -> DjlLayout.addTo(l, m, o);
      case KSERVE -> KServeLayout.addTo(l, m, o);
    }
    l.text("README.txt", readme(ServingSignature.of(m), o));
    return l;
  }

  private String readme(ServingSignature sig, PackageOptions o) {
    StringBuilder b = new StringBuilder();
    b.append("Model '")
        .append(o.name())
        .append("' packaged by cmod for ")
        .append(title)
        .append(".\n\n");
    b.append(
        switch (this) {
          case TRITON ->
              "Start: tritonserver --model-repository=<this folder>\n"
                  + "Request: POST /v2/models/"
                  + o.name()
                  + "/infer (KServe v2 protocol)\n";
          case DJL ->
              "Start: djl-serving -m "
                  + o.name()
                  + "=file:<this folder>/"
                  + o.name()
                  + "\n"
                  + "Request: POST /predictions/"
                  + o.name()
                  + " with the input tensors (NDList/npz)\n";
          case KSERVE ->
              "Deploy: copy models/ to the storage named by storageUri ("
                  + o.storageUri()
                  + "), then kubectl apply -f inferenceservice.yaml\n"
                  + "Request: POST /v2/models/"
                  + o.name()
                  + "/infer on the InferenceService's URL\n";
        });
    b.append("\nInputs (in order):\n");
    ports(b, sig.inputs());
    b.append("Outputs:\n");
    ports(b, sig.outputs());
    b.append('\n');
    if (sig.batched()) {
      b.append("Axis 0 ('")
          .append(sig.batchSymbol())
          .append("') is the batch: the engine stacks requests along it, up to ")
          .append(o.maxBatchSize())
          .append(" examples, waiting at most ")
          .append(o.maxBatchDelayMillis())
          .append(" ms for a batch to fill.\n");
    } else {
      b.append(
          "The model has no batch axis shared by all inputs and outputs: it is served unbatched.\n");
    }
    b.append("\nThe client's job (what the graph does not do):\n");
    if (sig.preprocessing().isEmpty()) {
      b.append(
          "  nothing is recorded in the artifact; send the input tensors above as they are"
              + " (decoding files and tokenizing text, if any, happen before the request).\n");
    } else {
      for (String p : sig.preprocessing()) {
        b.append("  - ").append(p).append('\n');
      }
    }
    return b.toString();
  }

  private static void ports(StringBuilder b, List<ServingSignature.Port> ports) {
    for (ServingSignature.Port p : ports) {
      b.append("  ")
          .append(p.name())
          .append(": ")
          .append(TritonLayout.dataType(p.elemType()).substring(5).toLowerCase(Locale.ROOT))
          .append(p.dims())
          .append('\n');
    }
  }
}
