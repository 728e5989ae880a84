package dev.cmod.ir.type;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DTypeTest {
  @Test
  void everyOnnxNumericTypeHasItsOnnxCodeAndSize() {
    // TensorProto.DataType numbers from onnx.proto
    int[][] codes = {{2, 1}, {3, 1}, {4, 2}, {5, 2}, {6, 4}, {7, 8}, {12, 4}, {13, 8}, {9, 1}};
    String[] names = {"u8", "i8", "u16", "i16", "i32", "i64", "u32", "u64", "bool"};
    for (int i = 0; i < names.length; i++) {
      DType d = DType.fromText(names[i]);
      assertEquals(codes[i][0], d.onnxCode, names[i]);
      assertEquals(codes[i][1], d.byteSize, names[i]);
      assertEquals(d, DType.fromOnnx(codes[i][0]));
    }
    assertTrue(DType.U8.isIntegral() && DType.U8.isUnsigned() && !DType.U8.isInteger());
    assertFalse(DType.BOOL.isIntegral());
  }

  @Test
  void wrapKeepsTheLowBitsLikeACast() {
    assertEquals(255, DType.U8.wrap(-1));
    assertEquals(-1, DType.I8.wrap(255));
    assertEquals(44, DType.U8.wrap(300));
    assertEquals(-32768, DType.I16.wrap(32768));
    assertEquals(65535, DType.U16.wrap(-1));
    assertEquals(4294967295L, DType.U32.wrap(-1));
    assertEquals(-1, DType.U64.wrap(-1));
    assertEquals(1, DType.BOOL.wrap(7));
  }

  @Test
  void u64TensorsShowAndReadTheirUnsignedValues() {
    dev.cmod.ir.tensor.Tensor t =
        dev.cmod.ir.tensor.Tensor.ofLongs(DType.U64, new long[] {2}, new long[] {-1, 3});
    assertEquals("u64[2] [18446744073709551615, 3]", t.toString());
    assertEquals(0x1p64 - 1, t.get(0));
  }
}
