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

  /**
   * u16, u32 and u64 inputs, which ONNX Runtime's Java API cannot make: `cmod run` feeds them
   * exactly (the session takes them wider and casts back), at their extreme values, into casts,
   * arithmetic and straight out again; the oracle is hand-computed values and the interpreter.
   */
  @Test
  void unsignedInputsOfEveryWidthRunExactly() throws Exception {
    Path src = dir.resolve("unsigned.cmod");
    Files.writeString(
        src,
        """
        model Unsigned {
          input a: exact u16[3]
          input b: exact u32[3]
          input c: exact u64[3]
          output a_out: exact u16[3] = a
          output b_wide: exact i64[3] = cast(b, i64) + 1
          output c_out: exact u64[3] = c
          output a_f: exact f32[3] = cast(a, f32)
        }
        """);
    Tensor a = Tensor.ofLongs(DType.U16, new long[] {3}, new long[] {0, 1, 65535});
    Tensor b = Tensor.ofLongs(DType.U32, new long[] {3}, new long[] {0, 7, 4294967295L});
    // u64 as bits: 2^64 - 1 and 2^63 are the longs -1 and Long.MIN_VALUE
    Tensor c = Tensor.ofLongs(DType.U64, new long[] {3}, new long[] {-1, Long.MIN_VALUE, 5});
    Npy.write(dir.resolve("a.npy"), a);
    Npy.write(dir.resolve("b.npy"), b);
    Npy.write(dir.resolve("c.npy"), c);
    Path out = dir.resolve("uout");
    int rc =
        run(
            "run",
            src.toString(),
            "--input",
            "a=" + dir.resolve("a.npy"),
            "--input",
            "b=" + dir.resolve("b.npy"),
            "--input",
            "c=" + dir.resolve("c.npy"),
            "--output-dir",
            out.toString());
    assertEquals(0, rc, err());
    Tensor aOut = Npy.read(out.resolve("a_out.npy"));
    assertEquals(DType.U16, aOut.dtype());
    assertArrayEquals(a.longs(), aOut.longs());
    assertArrayEquals(new long[] {1, 8, 4294967296L}, Npy.read(out.resolve("b_wide.npy")).longs());
    Tensor cOut = Npy.read(out.resolve("c_out.npy"));
    assertEquals(DType.U64, cOut.dtype());
    assertArrayEquals(c.longs(), cOut.longs());
    assertArrayEquals(new float[] {0, 1, 65535}, Npy.read(out.resolve("a_f.npy")).floats(), 0f);
    Compilation.Result r = Compilation.compile(src, CompileOptions.defaults());
    assertTrue(r.ok());
    Map<String, Tensor> interp = Interpreter.run(r.graph(), Map.of("a", a, "b", b, "c", c));
    assertArrayEquals(a.longs(), interp.get("a_out").longs());
    assertArrayEquals(new long[] {1, 8, 4294967296L}, interp.get("b_wide").longs());
    assertArrayEquals(c.longs(), interp.get("c_out").longs());
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
