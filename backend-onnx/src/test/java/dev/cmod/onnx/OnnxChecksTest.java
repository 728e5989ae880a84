package dev.cmod.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OnnxChecks on good, garbage and hostile models. */
class OnnxChecksTest {
  @TempDir Path dir;

  private static ModelProto good() throws Exception {
    return ModelProto.parseFrom(
        OnnxEmitter.emit(EmitterStructureTest.mlp(), EmitOptions.defaults()));
  }

  /** The model with one extra initializer stored externally at {@code location}. */
  private static byte[] withExternal(ModelProto m, String location) {
    TensorProto t =
        TensorProto.newBuilder()
            .setName("ext")
            .setDataType(1)
            .addDims(4)
            .setDataLocation(TensorProto.DataLocation.EXTERNAL)
            .addExternalData(
                StringStringEntryProto.newBuilder().setKey("location").setValue(location))
            .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue("0"))
            .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue("16"))
            .build();
    return m.toBuilder().setGraph(m.getGraph().toBuilder().addInitializer(t)).build().toByteArray();
  }

  private static boolean mentions(List<String> problems, String s) {
    return problems.stream().anyMatch(p -> p.contains(s));
  }

  @Test
  void acceptsAnEmittedModel() throws Exception {
    assertEquals(List.of(), OnnxChecks.validate(good().toByteArray(), dir));
  }

  @Test
  void rejectsGarbage() {
    List<String> p =
        OnnxChecks.validate(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x13, 0x37}, dir);
    assertFalse(p.isEmpty());
    assertTrue(mentions(p, "not a valid ONNX model"), p.toString());
    assertFalse(OnnxChecks.validate(new byte[0], dir).isEmpty());
    assertFalse(
        OnnxChecks.validate("hello, world".getBytes(java.nio.charset.StandardCharsets.UTF_8), dir)
            .isEmpty());
  }

  @Test
  void rejectsMissingOpsetAndGraph() {
    List<String> p =
        OnnxChecks.validate(ModelProto.newBuilder().setIrVersion(8).build().toByteArray(), dir);
    assertTrue(mentions(p, "opset"), p.toString());
    assertTrue(mentions(p, "no graph"), p.toString());
  }

  @Test
  void rejectsWrongRawDataLengthAndNegativeDims() throws Exception {
    ModelProto m = good();
    TensorProto shortData =
        TensorProto.newBuilder()
            .setName("bad")
            .setDataType(1)
            .addDims(3)
            .setRawData(ByteString.copyFrom(new byte[8]))
            .build();
    TensorProto negative =
        TensorProto.newBuilder()
            .setName("neg")
            .setDataType(7)
            .addDims(-2)
            .setRawData(ByteString.EMPTY)
            .build();
    byte[] bytes =
        m.toBuilder()
            .setGraph(m.getGraph().toBuilder().addInitializer(shortData).addInitializer(negative))
            .build()
            .toByteArray();
    List<String> p = OnnxChecks.validate(bytes, dir);
    assertTrue(mentions(p, "'bad': raw_data has 8 bytes, expected 12"), p.toString());
    assertTrue(mentions(p, "'neg': negative dim"), p.toString());
  }

  @Test
  void externalDataMustStayInsideTheModelDirectory() throws Exception {
    ModelProto m = good();
    Files.write(dir.resolve("weights.bin"), new byte[16]);
    assertEquals(List.of(), OnnxChecks.validate(withExternal(m, "weights.bin"), dir));

    List<String> up = OnnxChecks.validate(withExternal(m, "../secret.bin"), dir);
    assertTrue(mentions(up, "'..'"), up.toString());
    List<String> nested = OnnxChecks.validate(withExternal(m, "sub/../../secret.bin"), dir);
    assertTrue(mentions(nested, "'..'"), nested.toString());
    List<String> abs = OnnxChecks.validate(withExternal(m, "/etc/passwd"), dir);
    assertTrue(mentions(abs, "absolute"), abs.toString());
    List<String> missing = OnnxChecks.validate(withExternal(m, "nope.bin"), dir);
    assertTrue(mentions(missing, "does not exist"), missing.toString());
    List<String> noDir = OnnxChecks.validate(withExternal(m, "weights.bin"), null);
    assertTrue(mentions(noDir, "no directory"), noDir.toString());
  }

  @Test
  void externalDataMustNotBeASymlink() throws Exception {
    Path outside = Files.createTempFile("cmod-secret", ".bin");
    try {
      try {
        Files.createSymbolicLink(dir.resolve("link.bin"), outside);
        Files.createDirectory(dir.resolve("real"));
        Files.write(dir.resolve("real/w.bin"), new byte[16]);
        Files.createSymbolicLink(dir.resolve("alias"), dir.resolve("real"));
      } catch (UnsupportedOperationException | java.io.IOException e) {
        Assumptions.abort("symbolic links are not supported here: " + e);
      }
      List<String> p = OnnxChecks.validate(withExternal(good(), "link.bin"), dir);
      assertTrue(mentions(p, "symbolic link"), p.toString());
      List<String> viaDir = OnnxChecks.validate(withExternal(good(), "alias/w.bin"), dir);
      assertTrue(mentions(viaDir, "symbolic link"), viaDir.toString());
      assertEquals(List.of(), OnnxChecks.validate(withExternal(good(), "real/w.bin"), dir));
    } finally {
      Files.deleteIfExists(outside);
    }
  }
}
