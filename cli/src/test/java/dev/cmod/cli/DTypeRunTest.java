package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The small integer dtypes (u8 i8 i16, and u16 u64 as outputs) through inputs, casts, outputs and
 * {@code .npy} files on ONNX Runtime; the oracle is hand-computed values, and the interpreter must
 * give the same tensors.
 */
class DTypeRunTest extends CommandLineHarness {
  @TempDir Path dir;

  private static final String TYPES =
      """
      model Types {
        input pix: exact u8[2, 3]
        input small: exact i8[3]
        input mid: exact i16[3]
        output scaled: exact f32[2, 3] = cast(pix, f32) / 255.0
        output back: exact u8[2, 3] = cast(cast(pix, f32) * 0.5, u8)
        output sum: exact f32[3] = cast(small, f32) + cast(mid, f32)
        output wide: exact u16[3] = cast(mid, u16)
        output big: exact u64[3] = cast(small, u64)
        output same: exact i16[3] = mid
      }
      """;

  @Test
  void smallIntegerTypesRunExactlyOnOnnxRuntimeAndTheInterpreter() throws Exception {
    Path src = dir.resolve("types.cmod");
    Files.writeString(src, TYPES);
    Tensor pix = Tensor.ofLongs(DType.U8, new long[] {2, 3}, new long[] {0, 1, 127, 128, 254, 255});
    Tensor small = Tensor.ofLongs(DType.I8, new long[] {3}, new long[] {-128, -1, 127});
    Tensor mid = Tensor.ofLongs(DType.I16, new long[] {3}, new long[] {-32768, -2, 300});
    Npy.write(dir.resolve("pix.npy"), pix);
    Npy.write(dir.resolve("small.npy"), small);
    Npy.write(dir.resolve("mid.npy"), mid);
    Path out = dir.resolve("out");
    int rc =
        run(
            "run",
            src.toString(),
            "--input",
            "pix=" + dir.resolve("pix.npy"),
            "--input",
            "small=" + dir.resolve("small.npy"),
            "--input",
            "mid=" + dir.resolve("mid.npy"),
            "--output-dir",
            out.toString());
    assertEquals(0, rc, err());
    assertTrue(
        out().contains("big: u64[3] [18446744073709551488, 18446744073709551615, 127]"), out());
    Map<String, Tensor> ort =
        Map.of(
            "scaled", Npy.read(out.resolve("scaled.npy")),
            "back", Npy.read(out.resolve("back.npy")),
            "sum", Npy.read(out.resolve("sum.npy")),
            "wide", Npy.read(out.resolve("wide.npy")),
            "big", Npy.read(out.resolve("big.npy")),
            "same", Npy.read(out.resolve("same.npy")));
    float[] scaled = new float[6];
    for (int i = 0; i < 6; i++) {
      scaled[i] = pix.longs()[i] / 255f;
    }
    assertArrayEquals(scaled, ort.get("scaled").floats(), 1e-7f);
    assertEquals(DType.U8, ort.get("back").dtype());
    assertArrayEquals(new long[] {0, 0, 63, 64, 127, 127}, ort.get("back").longs());
    assertArrayEquals(new float[] {-32896, -3, 427}, ort.get("sum").floats(), 0f);
    assertEquals(DType.U16, ort.get("wide").dtype());
    assertArrayEquals(new long[] {32768, 65534, 300}, ort.get("wide").longs());
    // u64 keeps all 64 bits: 2^64 - 128 and 2^64 - 1 are the longs -128 and -1
    assertEquals(DType.U64, ort.get("big").dtype());
    assertArrayEquals(new long[] {-128, -1, 127}, ort.get("big").longs());
    assertEquals(DType.I16, ort.get("same").dtype());
    assertArrayEquals(mid.longs(), ort.get("same").longs());

    Compilation.Result r = Compilation.compile(src, CompileOptions.defaults());
    assertTrue(r.ok());
    Map<String, Tensor> interp =
        Interpreter.run(r.graph(), Map.of("pix", pix, "small", small, "mid", mid));
    for (Map.Entry<String, Tensor> e : ort.entrySet()) {
      Tensor t = interp.get(e.getKey());
      assertEquals(e.getValue().dtype(), t.dtype(), e.getKey());
      if (t.isFloat()) {
        assertArrayEquals(e.getValue().floats(), t.floats(), 1e-7f, e.getKey());
      } else {
        assertArrayEquals(e.getValue().longs(), t.longs(), e.getKey());
      }
    }
  }

  @Test
  void anInputKeepsItsDtypeAndAMismatchNamesBoth() throws Exception {
    Path src = dir.resolve("types.cmod");
    Files.writeString(src, TYPES);
    Path i8 = dir.resolve("pix_i8.npy");
    Npy.write(i8, Tensor.ofLongs(DType.I8, new long[] {2, 3}, new long[6]));
    Npy.write(dir.resolve("small.npy"), Tensor.ofLongs(DType.I8, new long[] {3}, new long[3]));
    Npy.write(dir.resolve("mid.npy"), Tensor.ofLongs(DType.I16, new long[] {3}, new long[3]));
    int rc =
        run(
            "run",
            src.toString(),
            "--input",
            "pix=" + i8,
            "--input",
            "small=" + dir.resolve("small.npy"),
            "--input",
            "mid=" + dir.resolve("mid.npy"));
    assertEquals(1, rc, out());
    assertTrue(err().contains("CM0402") && err().contains("u8") && err().contains("i8"), err());
    assertTrue(err().contains("uint8"), err());
  }
}
