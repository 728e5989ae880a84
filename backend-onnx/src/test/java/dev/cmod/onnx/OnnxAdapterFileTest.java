package dev.cmod.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtLoraAdapter;
import dev.cmod.ir.graph.AdapterInterface;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@code .onnx_adapter} writer and reader: tensors of several types read back exactly, ONNX
 * Runtime's own loader (which runs the FlatBuffers verifier) accepts what is written, every
 * truncation and a wrong identifier, version or byte count is an {@link
 * OnnxAdapterFile.AdapterFileException} (never another exception), and {@link RunAdapter#check}
 * names what does not fit an interface.
 */
class OnnxAdapterFileTest {
  static Map<String, Tensor> sample() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put(
        "l.weight.lora_a",
        Tensor.ofFloats(new long[] {2, 3}, new float[] {1, -2, 3.5f, 0, 7, -1e-3f}));
    m.put("l.weight.ia3", Tensor.ofFloats(DType.F16, new long[] {3}, new float[] {0.5f, 1, 2}));
    m.put("ids", Tensor.ofLongs(DType.I64, new long[] {2}, new long[] {-5, 1L << 40}));
    m.put("empty", Tensor.ofFloats(new long[] {0, 4}, new float[0]));
    m.put("one.é", Tensor.ofFloats(new long[] {1}, new float[] {42}));
    return m;
  }

  @Test
  void readsBackWhatItWrites() {
    Map<String, Tensor> in = sample();
    Map<String, Tensor> out = OnnxAdapterFile.read(OnnxAdapterFile.write(in, 3, 7));
    assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
    for (String k : in.keySet()) {
      assertEquals(in.get(k).dtype(), out.get(k).dtype(), k);
      assertArrayEquals(in.get(k).shape(), out.get(k).shape(), k);
      if (in.get(k).isFloat()) {
        assertArrayEquals(in.get(k).floats(), out.get(k).floats(), 0f, k);
      } else {
        assertArrayEquals(in.get(k).longs(), out.get(k).longs(), k);
      }
    }
  }

  @Test
  void onnxRuntimeLoadsIt() throws Exception {
    OnnxRunner.env();
    try (OrtLoraAdapter a = OrtLoraAdapter.create(OnnxAdapterFile.write(sample(), 1, 1))) {
      // created: identifier, verifier and format version passed
    }
    try (OrtLoraAdapter a = OrtLoraAdapter.create(OnnxAdapterFile.write(Map.of(), 1, 1))) {
      // an adapter without parameters is valid too
    }
    // ONNX Runtime refuses a parameter without dims, so the writer does not make one
    assertThrows(
        OnnxAdapterFile.AdapterFileException.class,
        () -> OnnxAdapterFile.write(Map.of("s", Tensor.scalar(1)), 1, 1));
  }

  @Test
  void damagedFilesAreRefusedCleanly() {
    byte[] good = OnnxAdapterFile.write(sample(), 1, 1);
    for (int n = 0; n < good.length; n++) {
      byte[] cut = java.util.Arrays.copyOf(good, n);
      assertThrows(
          OnnxAdapterFile.AdapterFileException.class, () -> OnnxAdapterFile.read(cut), "at " + n);
    }
    byte[] ident = good.clone();
    ident[4] = 'X';
    assertTrue(
        assertThrows(OnnxAdapterFile.AdapterFileException.class, () -> OnnxAdapterFile.read(ident))
            .getMessage()
            .contains("TORT"));
    ByteBuffer b = ByteBuffer.wrap(good.clone()).order(ByteOrder.LITTLE_ENDIAN);
    int root = b.getInt(0);
    b.putInt(root + 4, 2); // format_version
    assertThrows(OnnxAdapterFile.AdapterFileException.class, () -> OnnxAdapterFile.read(b.array()));
    // a shape that needs more bytes than the data holds
    byte[] one =
        OnnxAdapterFile.write(
            Map.of("w", Tensor.ofFloats(new long[] {2}, new float[] {1, 2})), 1, 1);
    ByteBuffer o = ByteBuffer.wrap(one).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i + 12 <= one.length; i += 4) {
      if (o.getInt(i) == 1 && o.getLong(i + 4) == 2) { // the dims vector [2]
        o.putLong(i + 4, 3);
      }
    }
    assertTrue(
        assertThrows(OnnxAdapterFile.AdapterFileException.class, () -> OnnxAdapterFile.read(one))
            .getMessage()
            .contains("holds 8 bytes"));
  }

  @Test
  void checkNamesWhatDoesNotFit() {
    AdapterInterface iface =
        new AdapterInterface(
            AdapterInterface.RUNTIME,
            List.of(
                new AdapterInterface.Param("l.weight.lora_a", DType.F32, new long[] {2, 3}),
                new AdapterInterface.Param("l.weight.lora_b", DType.F32, new long[] {3, 4})),
            List.of(),
            null);
    RunAdapter.check(Map.of("l.weight.lora_a", Tensor.zeros(DType.F32, new long[] {2, 3})), iface);
    RunAdapter.MismatchException shape =
        assertThrows(
            RunAdapter.MismatchException.class,
            () ->
                RunAdapter.check(
                    Map.of("l.weight.lora_b", Tensor.zeros(DType.F32, new long[] {4, 3})), iface));
    assertEquals(false, shape.unknownName);
    assertTrue(
        shape.getMessage().contains("f32[4, 3]") && shape.getMessage().contains("f32[3, 4]"));
    RunAdapter.MismatchException type =
        assertThrows(
            RunAdapter.MismatchException.class,
            () ->
                RunAdapter.check(
                    Map.of("l.weight.lora_b", Tensor.zeros(DType.F16, new long[] {3, 4})), iface));
    assertTrue(type.getMessage().contains("f16[3, 4]"), type.getMessage());
    RunAdapter.MismatchException name =
        assertThrows(
            RunAdapter.MismatchException.class,
            () ->
                RunAdapter.check(
                    Map.of("l.weight.lora_c", Tensor.zeros(DType.F32, new long[] {3, 4})), iface));
    assertTrue(name.unknownName);
    assertTrue(name.getMessage().contains("did you mean 'l.weight.lora_"), name.getMessage());
  }

  @Test
  void theInterfaceRoundTripsThroughItsJson() {
    AdapterInterface a =
        new AdapterInterface(
            AdapterInterface.STACKED,
            List.of(
                new AdapterInterface.Param("q.weight.lora_a", DType.BF16, new long[] {3, 8, 2})),
            List.of("style", "legal", "tone"),
            "adapter_index");
    assertEquals(a, AdapterInterface.parse(a.toJson()));
    assertThrows(
        IllegalArgumentException.class,
        () -> AdapterInterface.parse("{\"mode\":\"other\",\"params\":[]}"));
    assertThrows(IllegalArgumentException.class, () -> AdapterInterface.parse("not json"));
    assertThrows(
        IllegalArgumentException.class, () -> AdapterInterface.parse("{\"mode\":\"runtime\"}"));
  }
}
