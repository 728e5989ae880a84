package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.T.close;
import static dev.cmod.ir.interp.T.exact;
import static dev.cmod.ir.interp.T.f;
import static dev.cmod.ir.interp.T.i64;
import static dev.cmod.ir.interp.T.ramp;
import static dev.cmod.ir.interp.T.run;
import static dev.cmod.ir.interp.T.runAll;
import static dev.cmod.ir.interp.T.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TensorOpsTest {
  @Test
  void matmul2x3By3x2() {
    Tensor a = f(s(2, 3), 1, 2, 3, 4, 5, 6);
    Tensor b = f(s(3, 2), 7, 8, 9, 10, 11, 12);
    // [1*7+2*9+3*11, 1*8+2*10+3*12; 4*7+5*9+6*11, 4*8+5*10+6*12]
    close(s(2, 2), new float[] {58, 64, 139, 154}, run(Op.MATMUL, Attrs.NONE, a, b), 0);
  }

  @Test
  void matmulVectorsAndBatches() {
    Tensor v = f(s(3), 1, 0, -1);
    Tensor m = f(s(3, 2), 7, 8, 9, 10, 11, 12);
    close(s(2), new float[] {-4, -4}, run(Op.MATMUL, Attrs.NONE, v, m), 0);
    Tensor m2 = f(s(2, 3), 1, 2, 3, 4, 5, 6);
    close(s(2), new float[] {-2, -2}, run(Op.MATMUL, Attrs.NONE, m2, v), 0);
    close(s(), new float[] {2}, run(Op.MATMUL, Attrs.NONE, v, v), 0);
    // batch [2, 1, 2] @ [3, 2, 1] broadcasts to [2, 3, 1, 1]... here: [2,1,2] @ [2,1] -> [2,1,1]
    Tensor x = f(s(2, 1, 2), 1, 2, 3, 4);
    Tensor w = f(s(2, 1), 10, 1);
    close(s(2, 1, 1), new float[] {12, 34}, run(Op.MATMUL, Attrs.NONE, x, w), 0);
    // broadcast of batch dims: [2, 1, 1, 2] @ [3, 2, 1] -> [2, 3, 1, 1]
    Tensor y = f(s(2, 1, 1, 2), 1, 2, 3, 4);
    Tensor z = f(s(3, 2, 1), 1, 0, 0, 1, 1, 1);
    close(s(2, 3, 1, 1), new float[] {1, 2, 3, 3, 4, 7}, run(Op.MATMUL, Attrs.NONE, y, z), 0);
  }

  @Test
  void reshapeTransposeSqueezeUnsqueeze() {
    Tensor x = ramp(2, 3);
    Tensor r = run(Op.RESHAPE, Attrs.of("dims", List.of(Dim.of(3), Dim.of(2))), x);
    close(s(3, 2), new float[] {0, 1, 2, 3, 4, 5}, r, 0);
    close(
        s(3, 2),
        new float[] {0, 3, 1, 4, 2, 5},
        run(Op.TRANSPOSE, Attrs.of("perm", new long[] {1, 0}), x),
        0);
    Tensor c = ramp(2, 3, 4);
    Tensor t = run(Op.TRANSPOSE, Attrs.of("perm", new long[] {2, 0, 1}), c);
    assertEquals(4, t.dim(0));
    // t[k][i][j] = c[i][j][k] = 12i + 4j + k
    for (int k = 0; k < 4; k++) {
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
          assertEquals(12 * i + 4 * j + k, t.floats()[(k * 2 + i) * 3 + j]);
        }
      }
    }
    close(s(2, 1, 3), new float[] {0, 1, 2, 3, 4, 5}, run(Op.UNSQUEEZE, Attrs.of("axis", 1), x), 0);
    close(
        s(2, 3),
        new float[] {0, 1, 2, 3, 4, 5},
        run(Op.SQUEEZE, Attrs.of("axis", 1), ramp(2, 1, 3)),
        0);
  }

  @Test
  void concatSplitSlice() {
    Tensor a = ramp(2, 2);
    Tensor b = f(s(2, 1), 10, 11);
    close(s(2, 3), new float[] {0, 1, 10, 2, 3, 11}, run(Op.CONCAT, Attrs.of("axis", 1), a, b), 0);
    close(
        s(4, 2),
        new float[] {0, 1, 2, 3, 0, 1, 2, 3},
        run(Op.CONCAT, Attrs.of("axis", 0), a, a),
        0);
    Map<String, Tensor> parts =
        runAll(Op.SPLIT, Attrs.of("axis", 1, "sizes", List.of(Dim.of(1), Dim.of(3))), ramp(2, 4));
    close(s(2, 1), new float[] {0, 4}, parts.get("y0"), 0);
    close(s(2, 3), new float[] {1, 2, 3, 5, 6, 7}, parts.get("y1"), 0);
    Tensor sl =
        run(Op.SLICE, Attrs.of("axis", 1, "start", Dim.of(1), "end", Dim.of(3)), ramp(2, 4));
    close(s(2, 2), new float[] {1, 2, 5, 6}, sl, 0);
  }

  @Test
  void sliceOutOfBoundsIsAUserError() {
    InterpreterException e =
        assertThrows(
            InterpreterException.class,
            () ->
                run(Op.SLICE, Attrs.of("axis", 0, "start", Dim.of(2), "end", Dim.of(9)), ramp(4)));
    assertTrue(e.getMessage().contains("out of bounds"), e.getMessage());
  }

  @Test
  void broadcastTo() {
    Tensor x = f(s(3, 1), 1, 2, 3);
    Tensor r = run(Op.BROADCAST, Attrs.of("dims", List.of(Dim.of(2), Dim.of(3), Dim.of(2))), x);
    close(s(2, 3, 2), new float[] {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}, r, 0);
  }

  @Test
  void reductions() {
    Tensor x = f(s(2, 3), 1, 5, 3, 4, 2, 6);
    close(s(2), new float[] {9, 12}, run(Op.REDUCE_SUM, Attrs.of("axis", 1), x), 0);
    close(s(3), new float[] {5, 7, 9}, run(Op.REDUCE_SUM, Attrs.of("axis", 0), x), 0);
    close(
        s(2, 1), new float[] {3, 4}, run(Op.REDUCE_MEAN, Attrs.of("axis", 1, "keep", true), x), 0);
    close(s(3), new float[] {4, 5, 6}, run(Op.REDUCE_MAX, Attrs.of("axis", 0), x), 0);
    close(s(2), new float[] {1, 2}, run(Op.REDUCE_MIN, Attrs.of("axis", 1), x), 0);
    exact(s(2), new long[] {1, 2}, run(Op.ARGMAX, Attrs.of("axis", 1), x));
    Tensor am = run(Op.ARGMAX, Attrs.of("axis", 0, "keep", true), x);
    assertEquals(DType.I64, am.dtype());
    exact(s(1, 3), new long[] {1, 0, 1}, am);
    // ties: the first maximum wins
    exact(s(1), new long[] {1}, run(Op.ARGMAX, Attrs.of("axis", 1), f(s(1, 4), 0, 7, 7, 1)));
    exact(
        s(2),
        new long[] {6, 15},
        run(Op.REDUCE_SUM, Attrs.of("axis", 1), i64(s(2, 3), 1, 2, 3, 4, 5, 6)));
    // a middle axis: [2, 3, 2] summed over axis 1
    close(
        s(2, 2),
        new float[] {0 + 2 + 4, 1 + 3 + 5, 6 + 8 + 10, 7 + 9 + 11},
        run(Op.REDUCE_SUM, Attrs.of("axis", 1), ramp(2, 3, 2)),
        0);
  }

  @Test
  void topkLargestFirstTiesByIndex() {
    Tensor x = f(s(2, 4), 3, 1, 3, 2, 0, 5, -1, 5);
    Map<String, Tensor> r = runAll(Op.TOPK, Attrs.of("k", 3, "axis", 1), x);
    close(s(2, 3), new float[] {3, 3, 2, 5, 5, 0}, r.get("y0"), 0);
    exact(s(2, 3), new long[] {0, 2, 3, 1, 3, 0}, r.get("y1"));
    Map<String, Tensor> col = runAll(Op.TOPK, Attrs.of("k", 1, "axis", 0), x);
    close(s(1, 4), new float[] {3, 5, 3, 5}, col.get("y0"), 0);
    exact(s(1, 4), new long[] {0, 1, 0, 1}, col.get("y1"));
  }

  @Test
  void takeGathersRows() {
    Tensor table = f(s(3, 2), 0, 1, 10, 11, 20, 21);
    Tensor ids = i64(s(2, 2), 2, 0, 1, 1);
    close(
        s(2, 2, 2),
        new float[] {20, 21, 0, 1, 10, 11, 10, 11},
        run(Op.TAKE, Attrs.NONE, table, ids),
        0);
    InterpreterException e =
        assertThrows(
            InterpreterException.class, () -> run(Op.TAKE, Attrs.NONE, table, i64(s(2), 1, 3)));
    assertTrue(e.getMessage().contains("id 3"), e.getMessage());
    assertTrue(e.getMessage().startsWith("t.cmod:1:1: take:"), e.getMessage());
    assertThrows(InterpreterException.class, () -> run(Op.TAKE, Attrs.NONE, table, i64(s(1), -1)));
  }

  @Test
  void oneHot() {
    Tensor r = run(Op.ONE_HOT, Attrs.of("n", 3), i64(s(4), 0, 2, 5, -1));
    assertEquals(DType.F32, r.dtype());
    close(s(4, 3), new float[] {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, r, 0);
  }

  @Test
  void cosine() {
    Tensor a = f(s(2, 2), 1, 0, 3, 4);
    Tensor b = f(s(2), 0, 1);
    // row 0: (1,0).(0,1) = 0; row 1: (3,4).(0,1) = 4 / (5 * 1)
    close(s(2), new float[] {0, 0.8f}, run(Op.COSINE, Attrs.of("axis", 1), a, b), 1e-7);
    // zero vector: divided by the 1e-8 floor
    close(
        s(1),
        new float[] {0},
        run(Op.COSINE, Attrs.of("axis", 1), f(s(1, 2), 0, 0), f(s(1, 2), 1, 1)),
        0);
    // along axis 0
    close(
        s(2),
        new float[] {(float) (3 / Math.sqrt(10)), (float) (1 / Math.sqrt(2))},
        run(Op.COSINE, Attrs.of("axis", 0), a, f(s(2, 2), 0, 1, 1, 1)),
        1e-7);
  }
}
