package dev.cmod.ir.graph;

import dev.cmod.ir.type.TensorType;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The value of an {@link Op#ONNX_REGION} node: a piece of an imported ONNX model kept verbatim as a
 * self-contained serialized ONNX ModelProto (its nodes, attributes, subgraphs, domains and opset
 * imports, the initializers only it reads), with the names and types of its inputs and outputs in
 * operand and output order. The IR never parses the bytes: the backend inlines them and the
 * interpreter hands them to an {@link dev.cmod.ir.interp.OpaqueRegionRunner}. Two regions are equal
 * when their bytes and boundary are, so common-subexpression elimination can merge them.
 *
 * @param model the serialized ModelProto (copied; never modified)
 * @param inputNames the ONNX names of the region model's graph inputs, one per operand
 * @param inputTypes the types the operands must have
 * @param outputNames the ONNX names of the region model's graph outputs, one per node output
 * @param outputTypes the types of the node's outputs (from the imported file or the importer)
 */
public record OnnxRegion(
    byte[] model,
    List<String> inputNames,
    List<TensorType> inputTypes,
    List<String> outputNames,
    List<TensorType> outputTypes) {
  public OnnxRegion {
    model = model.clone();
    inputNames = List.copyOf(inputNames);
    inputTypes = List.copyOf(inputTypes);
    outputNames = List.copyOf(outputNames);
    outputTypes = List.copyOf(outputTypes);
    if (inputNames.size() != inputTypes.size() || outputNames.size() != outputTypes.size()) {
      throw new IllegalArgumentException("an ONNX region needs one type per input and output");
    }
    if (outputNames.isEmpty()) {
      throw new IllegalArgumentException("an ONNX region needs at least one output");
    }
  }

  @Override
  public byte[] model() {
    return model.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OnnxRegion r
        && Arrays.equals(model, r.model)
        && inputNames.equals(r.inputNames)
        && inputTypes.equals(r.inputTypes)
        && outputNames.equals(r.outputNames)
        && outputTypes.equals(r.outputTypes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(model) * 31 + outputTypes.hashCode();
  }

  /** A short form with a content digest (printers and structural digests use it). */
  @Override
  public String toString() {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(model);
      return "onnx(sha256:"
          + HexFormat.of().formatHex(d, 0, 8)
          + ", "
          + model.length
          + " bytes, "
          + inputNames
          + " -> "
          + outputNames
          + " "
          + outputTypes
          + ")";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
