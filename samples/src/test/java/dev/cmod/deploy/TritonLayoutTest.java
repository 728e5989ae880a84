package dev.cmod.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.TextFormat;
import dev.cmod.cli.Main;
import dev.cmod.cli.Toolchain;
import dev.cmod.deploy.triton.TritonModelConfig.DataType;
import dev.cmod.deploy.triton.TritonModelConfig.ModelConfig;
import dev.cmod.deploy.triton.TritonModelConfig.ModelInput;
import dev.cmod.deploy.triton.TritonModelConfig.ModelOutput;
import dev.cmod.testkit.E2E;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * For every sample, {@code cmod package --format triton} writes a {@code config.pbtxt} that
 * protobuf's text-format parser reads against Triton's model-config schema (the subset in
 * src/test/proto, with Triton's field names and numbers: an unknown field or enum value fails),
 * whose inputs and outputs are the ONNX file's graph inputs and outputs — names, element types and
 * dims, the batch axis left out exactly when {@code max_batch_size} is above 0 — and whose model
 * file is the artifact {@code cmod compile} makes.
 */
class TritonLayoutTest {
  @TempDir Path dir;

  /** Triton's type for each ONNX element type, written here apart from the packager's table. */
  private static final Map<TensorProto.DataType, DataType> TYPES =
      Map.ofEntries(
          Map.entry(TensorProto.DataType.FLOAT, DataType.TYPE_FP32),
          Map.entry(TensorProto.DataType.DOUBLE, DataType.TYPE_FP64),
          Map.entry(TensorProto.DataType.FLOAT16, DataType.TYPE_FP16),
          Map.entry(TensorProto.DataType.BFLOAT16, DataType.TYPE_BF16),
          Map.entry(TensorProto.DataType.INT64, DataType.TYPE_INT64),
          Map.entry(TensorProto.DataType.INT32, DataType.TYPE_INT32),
          Map.entry(TensorProto.DataType.INT16, DataType.TYPE_INT16),
          Map.entry(TensorProto.DataType.INT8, DataType.TYPE_INT8),
          Map.entry(TensorProto.DataType.UINT64, DataType.TYPE_UINT64),
          Map.entry(TensorProto.DataType.UINT32, DataType.TYPE_UINT32),
          Map.entry(TensorProto.DataType.UINT16, DataType.TYPE_UINT16),
          Map.entry(TensorProto.DataType.UINT8, DataType.TYPE_UINT8),
          Map.entry(TensorProto.DataType.BOOL, DataType.TYPE_BOOL));

  static Stream<Path> samples() throws Exception {
    try (Stream<Path> s = Files.list(Path.of("."))) {
      List<Path> l = s.filter(p -> p.toString().endsWith(".cmod")).sorted().toList();
      assertTrue(l.size() >= 3, "expected at least three samples, found " + l);
      return l.stream();
    }
  }

  @ParameterizedTest
  @MethodSource("samples")
  void configParsesAgainstTritonsSchemaAndMatchesTheOnnxFile(Path sample) throws Exception {
    Path out = dir.resolve("repo");
    assertEquals(
        0, Main.execute("package", sample.toString(), "--format", "triton", "-o", out.toString()));
    Toolchain.Compiled c = Toolchain.compile(sample, E2E.opts(2));
    String name = c.result().model();
    byte[] onnx = Files.readAllBytes(out.resolve(name + "/1/model.onnx"));
    assertArrayEquals(c.onnx(), onnx, "the layout ships the compiled artifact");

    ModelConfig.Builder b = ModelConfig.newBuilder();
    TextFormat.getParser().merge(Files.readString(out.resolve(name + "/config.pbtxt")), b);
    ModelConfig config = b.build();
    assertEquals(name, config.getName());
    assertEquals("onnxruntime_onnx", config.getPlatform());

    ModelProto m = ModelProto.parseFrom(onnx);
    boolean batched = config.getMaxBatchSize() > 0;
    assertEquals(batched, config.hasDynamicBatching(), "dynamic batching exactly when batched");
    assertEquals(batched, leadingSymbolEverywhere(m), sample + ": batched iff a shared batch axis");

    List<ValueInfoProto> ins = m.getGraph().getInputList();
    assertEquals(ins.size(), config.getInputCount());
    for (int i = 0; i < ins.size(); i++) {
      ModelInput t = config.getInput(i);
      assertEquals(ins.get(i).getName(), t.getName());
      assertEquals(tritonType(ins.get(i)), t.getDataType(), t.getName());
      assertEquals(dims(ins.get(i), batched), t.getDimsList(), t.getName());
    }
    List<ValueInfoProto> outs = m.getGraph().getOutputList();
    assertEquals(outs.size(), config.getOutputCount());
    for (int i = 0; i < outs.size(); i++) {
      ModelOutput t = config.getOutput(i);
      assertEquals(outs.get(i).getName(), t.getName());
      assertEquals(tritonType(outs.get(i)), t.getDataType(), t.getName());
      List<Long> want = dims(outs.get(i), batched);
      if (want.isEmpty() && batched) {
        // a per-example scalar: Triton wants [1], reshaped to [] for the model
        assertEquals(List.of(1L), t.getDimsList());
        assertEquals(List.of(), t.getReshape().getShapeList());
      } else {
        assertEquals(want, t.getDimsList(), t.getName());
      }
    }
  }

  @Test
  void aPerExampleScalarIsDimsOneReshapedToNoDims() throws Exception {
    Path src = dir.resolve("s.cmod");
    Files.writeString(src, "model S {\n  input x: f32[4]\n  output s: f32[] = mean(x, 1)\n}\n");
    Path out = dir.resolve("repo");
    assertEquals(
        0, Main.execute("package", src.toString(), "--format", "triton", "-o", out.toString()));
    ModelConfig.Builder b = ModelConfig.newBuilder();
    TextFormat.getParser().merge(Files.readString(out.resolve("S/config.pbtxt")), b);
    ModelOutput s = b.getOutput(0);
    assertEquals(List.of(1L), s.getDimsList());
    assertTrue(s.hasReshape());
    assertEquals(List.of(), s.getReshape().getShapeList());
    assertEquals(List.of(4L), b.getInput(0).getDimsList());
  }

  @Test
  void theSchemaRefusesWhatTritonWouldNotKnow() {
    assertThrows(
        TextFormat.ParseException.class,
        () -> TextFormat.getParser().merge("max_batch_sise: 4", ModelConfig.newBuilder()));
    assertThrows(
        TextFormat.ParseException.class,
        () ->
            TextFormat.getParser()
                .merge("input [ { name: \"x\" data_type: TYPE_F32 } ]", ModelConfig.newBuilder()));
  }

  private static boolean leadingSymbolEverywhere(ModelProto m) {
    List<ValueInfoProto> all = new ArrayList<>(m.getGraph().getInputList());
    all.addAll(m.getGraph().getOutputList());
    String sym = null;
    for (ValueInfoProto v : all) {
      List<TensorShapeProto.Dimension> d = v.getType().getTensorType().getShape().getDimList();
      if (d.isEmpty() || !d.get(0).hasDimParam()) {
        return false;
      }
      if (sym == null) {
        sym = d.get(0).getDimParam();
      } else if (!sym.equals(d.get(0).getDimParam())) {
        return false;
      }
    }
    return true;
  }

  private static DataType tritonType(ValueInfoProto v) {
    return TYPES.get(TensorProto.DataType.forNumber(v.getType().getTensorType().getElemType()));
  }

  private static List<Long> dims(ValueInfoProto v, boolean withoutBatch) {
    List<Long> out = new ArrayList<>();
    for (TensorShapeProto.Dimension d : v.getType().getTensorType().getShape().getDimList()) {
      out.add(d.hasDimValue() ? d.getDimValue() : -1L);
    }
    return withoutBatch ? out.subList(1, out.size()) : out;
  }
}
