package dev.cmod.cli.deploy;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.util.List;

/**
 * A Triton Inference Server model repository holding one model: {@code NAME/config.pbtxt} for the
 * ONNX Runtime backend and {@code NAME/1/model.onnx} (version 1, the file name that backend looks
 * for), with its external data beside it. Triton's rule for batching: with {@code max_batch_size}
 * above 0 the dims leave the batch axis out and requests are stacked along it ({@code
 * dynamic_batching}); a model without a shared leading symbol gets {@code max_batch_size: 0} and
 * its full dims.
 */
public final class TritonLayout {
  /** The file name Triton's ONNX Runtime backend loads from a version folder. */
  public static final String MODEL_FILE = "model.onnx";

  private TritonLayout() {}

  /** The repository for {@code m} under {@code prefix} ("" for the output folder itself). */
  public static void addTo(Layout layout, String prefix, ModelProto m, PackageOptions o) {
    ServingSignature sig = ServingSignature.of(m);
    String dir = (prefix.isEmpty() ? "" : prefix + "/") + o.name();
    layout.text(dir + "/config.pbtxt", config(o.name(), sig, o));
    ModelFiles.of(m, o.externalData(), MODEL_FILE).addTo(layout, dir + "/1");
  }

  /** The text of {@code config.pbtxt} (protobuf text format of Triton's ModelConfig). */
  public static String config(String name, ServingSignature sig, PackageOptions o) {
    StringBuilder b = new StringBuilder();
    b.append("# written by cmod package; Triton ModelConfig in protobuf text format\n");
    b.append("name: ").append(quote(name)).append('\n');
    b.append("platform: \"onnxruntime_onnx\"\n");
    b.append("max_batch_size: ").append(sig.batched() ? o.maxBatchSize() : 0).append('\n');
    ports(b, "input", sig.inputs(), sig.batched());
    ports(b, "output", sig.outputs(), sig.batched());
    if (sig.batched()) {
      b.append("dynamic_batching {\n");
      b.append("  max_queue_delay_microseconds: ")
          .append(o.maxBatchDelayMillis() * 1000L)
          .append('\n');
      b.append("}\n");
    }
    return b.toString();
  }

  private static void ports(
      StringBuilder b, String field, List<ServingSignature.Port> ports, boolean batched) {
    b.append(field).append(" [\n");
    for (int i = 0; i < ports.size(); i++) {
      ServingSignature.Port p = ports.get(i);
      List<Long> dims = batched ? p.sizesWithoutBatch() : p.sizes();
      b.append("  {\n");
      b.append("    name: ").append(quote(p.name())).append('\n');
      b.append("    data_type: ").append(dataType(p.elemType())).append('\n');
      b.append("    dims: ")
          .append(dims.isEmpty() && batched ? "[ 1 ]" : dims.toString())
          .append('\n');
      if (dims.isEmpty() && batched) {
        // Triton wants at least one dim: a per-example scalar is [1] reshaped to [] for the model
        b.append("    reshape: { shape: [ ] }\n");
      }
      b.append(i + 1 < ports.size() ? "  },\n" : "  }\n");
    }
    b.append("]\n");
  }

  /** Triton's name of an ONNX element type ({@code TensorProto.DataType} number). */
  public static String dataType(int onnxElemType) {
    return switch (onnxElemType) {
      case 1 -> "TYPE_FP32";
      case 2 -> "TYPE_UINT8";
      case 3 -> "TYPE_INT8";
      case 4 -> "TYPE_UINT16";
      case 5 -> "TYPE_INT16";
      case 6 -> "TYPE_INT32";
      case 7 -> "TYPE_INT64";
      case 8 -> "TYPE_STRING";
      case 9 -> "TYPE_BOOL";
      case 10 -> "TYPE_FP16";
      case 11 -> "TYPE_FP64";
      case 12 -> "TYPE_UINT32";
      case 13 -> "TYPE_UINT64";
      case 16 -> "TYPE_BF16";
      default ->
          throw new IllegalArgumentException(
              "ONNX element type " + onnxElemType + " has no Triton data type");
    };
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> b.append(c);
      }
    }
    return b.append('"').toString();
  }
}
