package dev.cmod.cli.deploy;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.protobuf.ByteString;
import dev.cmod.onnx.ExternalDataWriter;
import java.util.List;

/**
 * The ONNX artifact as the files a layout ships: the model alone, or the model and its external
 * data file ({@code FILE.data}, named in the model without a folder, so the pair may move together
 * to any folder — an engine's model folder included).
 */
public record ModelFiles(
    String fileName, ModelProto model, List<ByteString> dataChunks, long dataBytes) {

  /**
   * The files for {@code m} under the file name {@code fileName}: its weights as external data when
   * {@code external} is set or they exceed what one ONNX file holds.
   */
  public static ModelFiles of(ModelProto m, boolean external, String fileName) {
    if (!external && ExternalDataWriter.weightBytes(m) <= ExternalDataWriter.AUTO_BYTES) {
      return new ModelFiles(fileName, m, List.of(), 0);
    }
    ExternalDataWriter.Split s = ExternalDataWriter.split(m, fileName + ".data");
    return new ModelFiles(fileName, s.model(), s.chunks(), s.dataBytes());
  }

  public boolean hasExternalData() {
    return !dataChunks.isEmpty() || dataBytes > 0;
  }

  /** Adds the model as {@code folder/fileName} (and its data beside it) to {@code layout}. */
  public void addTo(Layout layout, String folder) {
    String base = folder.isEmpty() ? fileName : folder + "/" + fileName;
    layout.file(base, os -> model.writeTo(os));
    if (hasExternalData()) {
      layout.file(
          base + ".data",
          os -> {
            for (ByteString b : dataChunks) {
              b.writeTo(os);
            }
          });
    }
  }
}
