package dev.cmod.ir.op;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Op definitions: the table's shape, and inference and cost on hand-computed examples. */
class OpDefsTest {
  private static TensorType f32(long... dims) {
    return TensorType.of(DType.F32, dims);
  }

  private static TensorType i64(long... dims) {
    return TensorType.of(DType.I64, dims);
  }

  private static List<TensorType> infer(Op op, Attrs a, TensorType... in) {
    return OpDefs.of(op).infer(a, List.of(in));
  }

  private static TensorType infer1(Op op, Attrs a, TensorType... in) {
    List<TensorType> out = infer(op, a, in);
    assertEquals(1, out.size(), op + " outputs");
    return out.get(0);
  }

  @Test
  void everyOpHasOneDefinitionWhoseOperandsMatchItsArity() {
    for (Op op : Op.values()) {
      OpDef d = OpDefs.of(op);
      assertNotNull(d, op.name());
      assertEquals(op, d.op());
      long required = d.operands().stream().filter(o -> !o.optional() && !o.variadic()).count();
      boolean variadic = d.operands().stream().anyMatch(OpDef.Operand::variadic);
      long max = variadic ? Integer.MAX_VALUE : d.operands().size();
      assertEquals(op.minArity, variadic ? required + 1 : required, op + " min arity");
      assertEquals(op.maxArity, max, op + " max arity");
      assertEquals(op.isLeaf(), d.family() == OpDef.Family.LEAF, op.name());
      if (op.isLeaf()) {
        assertTrue(d.noInference() != null && !d.noInference().isBlank(), op.name());
      } else {
        assertTrue(d.hasInference(), op + " has inference");
        assertNull(d.noInference(), op.name());
      }
    }
    assertEquals(Op.values().length, OpDefs.all().size());
  }

  @Test
  void elementwiseBroadcastsAndComparisonsGiveBool() {
    assertEquals(f32(2, 4, 3), infer1(Op.ADD, Attrs.NONE, f32(2, 1, 3), f32(4, 1)));
    assertEquals(TensorType.of(DType.BOOL, 2, 3), infer1(Op.LESS, Attrs.NONE, f32(2, 3), f32(3)));
    assertEquals(i64(5), infer1(Op.NEG, Attrs.NONE, i64(5)));
    assertThrows(ShapeException.class, () -> infer1(Op.EXP, Attrs.NONE, i64(5)));
    assertThrows(ShapeException.class, () -> infer1(Op.ADD, Attrs.NONE, f32(3), f32(4)));
    assertThrows(ShapeException.class, () -> infer1(Op.ADD, Attrs.NONE, f32(3)));
  }

  @Test
  void roundingTrigonometryLogicAndPredicates() {
    TensorType bool = TensorType.of(DType.BOOL, 2, 3);
    assertEquals(f32(2, 3), infer1(Op.ROUND, Attrs.NONE, f32(2, 3)));
    assertEquals(f32(4), infer1(Op.ATANH, Attrs.NONE, f32(4)));
    assertEquals(i64(5), infer1(Op.SIGN, Attrs.NONE, i64(5)));
    assertThrows(ShapeException.class, () -> infer1(Op.FLOOR, Attrs.NONE, i64(5)));
    assertThrows(
        ShapeException.class, () -> infer1(Op.SIGN, Attrs.NONE, TensorType.of(DType.BOOL, 5)));
    assertEquals(bool, infer1(Op.IS_NAN, Attrs.NONE, f32(2, 3)));
    assertEquals(bool, infer1(Op.IS_INF, Attrs.of("detect_negative", false), f32(2, 3)));
    assertEquals(bool, infer1(Op.NOT, Attrs.NONE, bool));
    assertThrows(ShapeException.class, () -> infer1(Op.NOT, Attrs.NONE, f32(2, 3)));
    assertEquals(bool, infer1(Op.XOR, Attrs.NONE, bool, TensorType.of(DType.BOOL, 3)));
    assertThrows(ShapeException.class, () -> infer1(Op.AND, Attrs.NONE, i64(3), i64(3)));
    assertEquals(i64(2, 3), infer1(Op.MOD, Attrs.NONE, i64(2, 3), i64(3)));
    assertEquals(f32(3), infer1(Op.MOD, Attrs.of("fmod", true), f32(3), f32(3)));
    // ONNX defines a floating-point mod only with the dividend's sign
    assertThrows(ShapeException.class, () -> infer1(Op.MOD, Attrs.NONE, f32(3), f32(3)));
    assertEquals(List.of("fmod"), OpDefs.of(Op.MOD).attrs().stream().map(AttrSpec::name).toList());
    assertEquals(4.0 * 6, OpDefs.of(Op.SIN).flops(List.of(f32(6)), f32(6), Dim::value));
    assertEquals(6.0, OpDefs.of(Op.FLOOR).flops(List.of(f32(6)), f32(6), Dim::value));
  }

  @Test
  void shapeOpsAndTheirDefaultAxis() {
    // concat without an axis joins along the last one
    assertEquals(f32(2, 8), infer1(Op.CONCAT, Attrs.NONE, f32(2, 3), f32(2, 5)));
    assertEquals(f32(5, 3), infer1(Op.CONCAT, Attrs.of("axis", 0), f32(2, 3), f32(3, 3)));
    assertEquals(
        f32(4, 2, 3), infer1(Op.TRANSPOSE, Attrs.of("perm", new long[] {2, 0, 1}), f32(2, 3, 4)));
    assertEquals(
        List.of(f32(1, 4), f32(2, 4)),
        infer(Op.SPLIT, Attrs.of("sizes", List.of(Dim.of(1), Dim.of(2)), "axis", 0), f32(3, 4)));
    assertEquals(
        f32(3, 2),
        infer1(Op.SLICE, Attrs.of("axis", 1, "start", Dim.of(1), "end", Dim.of(3)), f32(3, 5)));
    assertThrows(
        ShapeException.class,
        () -> infer1(Op.RESHAPE, Attrs.of("dims", List.of(Dim.of(5))), f32(2, 3)));
  }

  @Test
  void reductionsDropOrKeepTheAxis() {
    assertEquals(
        f32(2, 1, 4), infer1(Op.REDUCE_SUM, Attrs.of("axis", 1, "keep", true), f32(2, 3, 4)));
    assertEquals(f32(2, 4), infer1(Op.REDUCE_MAX, Attrs.of("axis", 1), f32(2, 3, 4)));
    assertEquals(i64(2, 3), infer1(Op.ARGMAX, Attrs.NONE, f32(2, 3, 4)));
    assertThrows(ShapeException.class, () -> infer1(Op.REDUCE_MEAN, Attrs.of("axis", 0), i64(3)));
    assertEquals(i64(2, 4), infer1(Op.REDUCE_PROD, Attrs.of("axis", 1), i64(2, 3, 4)));
    assertEquals(f32(2, 3), infer1(Op.CUMSUM, Attrs.of("axis", 0, "reverse", true), f32(2, 3)));
    assertThrows(ShapeException.class, () -> infer1(Op.CUMSUM, Attrs.of("axis", 2), f32(2, 3)));
    // argmax's last-of-ties is the importer's (select_last_index), not a builtin parameter
    assertTrue(ReductionOps.LAST.isInternal());
  }

  @Test
  void normalizationsCheckTheirScaleAgainstTheLastAxis() {
    TensorType x = new TensorType(DType.F32, List.of(Dim.of(2), Dim.sym("seq"), Dim.of(8)));
    assertEquals(x, infer1(Op.RMS_NORM, Attrs.NONE, x, f32(8)));
    assertEquals(x, infer1(Op.LAYER_NORM, Attrs.of("eps", 1e-5), x, f32(8), f32(8)));
    assertThrows(ShapeException.class, () -> infer1(Op.RMS_NORM, Attrs.NONE, x, f32(7)));
    assertEquals(x, infer1(Op.SOFTMAX, Attrs.NONE, x));
  }

  @Test
  void contractions() {
    assertEquals(f32(5, 2, 4), infer1(Op.MATMUL, Attrs.NONE, f32(5, 2, 3), f32(3, 4)));
    assertEquals(f32(4), infer1(Op.MATMUL, Attrs.NONE, f32(3), f32(3, 4)));
    assertThrows(ShapeException.class, () -> infer1(Op.MATMUL, Attrs.NONE, f32(2, 3), f32(4, 2)));
    assertEquals(
        f32(2, 4, 10, 32),
        infer1(Op.ATTENTION, Attrs.NONE, f32(2, 4, 10, 16), f32(2, 4, 12, 16), f32(2, 4, 12, 32)));
  }

  @Test
  void windows() {
    // (32 + 2 * 1 - 3) / 2 + 1 = 16
    assertEquals(
        f32(1, 8, 16, 16),
        infer1(Op.CONV2D, Attrs.of("stride", 2, "padding", 1), f32(1, 3, 32, 32), f32(8, 3, 3, 3)));
    // stride 1 and no padding by default: 32 - 3 + 1 = 30
    assertEquals(
        f32(1, 8, 30, 30), infer1(Op.CONV2D, Attrs.NONE, f32(1, 3, 32, 32), f32(8, 3, 3, 3)));
    assertEquals(
        f32(1, 3, 16, 16),
        infer1(Op.AVG_POOL2D, Attrs.of("kernel", 2, "stride", 2), f32(1, 3, 32, 32)));
    // (32 / 4) * (32 / 4) = 64 patches of 3 * 4 * 4 = 48 values
    assertEquals(f32(1, 64, 48), infer1(Op.PATCHIFY, Attrs.of("patch", 4), f32(1, 3, 32, 32)));
    assertEquals(f32(1, 2, 12), infer1(Op.UPSAMPLE, Attrs.of("factor", 3), f32(1, 2, 4)));
  }

  @Test
  void indexing() {
    assertEquals(f32(2, 5, 16), infer1(Op.TAKE, Attrs.NONE, f32(100, 16), i64(2, 5)));
    assertEquals(List.of(f32(4, 3), i64(4, 3)), infer(Op.TOPK, Attrs.of("k", 3), f32(4, 10)));
    assertEquals(f32(7, 10), infer1(Op.ONE_HOT, Attrs.of("n", 10), i64(7)));
    assertEquals(f32(2), infer1(Op.COSINE, Attrs.NONE, f32(2, 8), f32(8)));
    assertEquals(TensorType.of(DType.F16, 3), infer1(Op.CAST, Attrs.of("to", DType.F16), f32(3)));
    assertThrows(ShapeException.class, () -> infer1(Op.TAKE, Attrs.NONE, f32(10, 4), f32(2)));
    // nonzero: the count is the symbol the attribute names (no input binds it)
    TensorType mask = TensorType.of(DType.BOOL, 6);
    assertEquals(
        new TensorType(DType.I64, List.of(Dim.sym("n_e"))),
        infer1(Op.NONZERO, Attrs.of("count", "n_e"), mask));
    assertThrows(ShapeException.class, () -> infer1(Op.NONZERO, Attrs.of("count", "n"), f32(6)));
    // scatter_add keeps data's type; updates are one row of data per id
    TensorType ids = new TensorType(DType.I64, List.of(Dim.sym("m")));
    TensorType rows = new TensorType(DType.F32, List.of(Dim.sym("m"), Dim.of(4)));
    assertEquals(f32(6, 4), infer1(Op.SCATTER_ADD, Attrs.NONE, f32(6, 4), ids, rows));
    assertThrows(
        ShapeException.class, () -> infer1(Op.SCATTER_ADD, Attrs.NONE, f32(6, 4), ids, f32(3, 4)));
    // transposed convolution: (in - 1) * stride + dilation * (k - 1) + 1 + output padding - pads
    assertEquals(
        f32(2, 6, 9, 5),
        infer1(
            Op.CONV_TRANSPOSE,
            Attrs.of(
                "strides",
                new long[] {2, 1},
                "pads",
                new long[] {1, 0, 1, 0},
                "dilations",
                new long[] {1, 2},
                "output_padding",
                new long[] {1, 0},
                "groups",
                2L),
            f32(2, 4, 5, 3),
            f32(4, 3, 2, 2)));
    assertThrows(
        ShapeException.class,
        () -> infer1(Op.CONV_TRANSPOSE, Attrs.NONE, f32(1, 4, 5), f32(3, 2, 2)));
    // the result has the indices' shape (gather) or the data's (scatter)
    assertEquals(f32(2, 7), infer1(Op.GATHER_ELEMENTS, Attrs.of("axis", 1), f32(3, 4), i64(2, 7)));
    assertThrows(
        ShapeException.class, () -> infer1(Op.GATHER_ELEMENTS, Attrs.NONE, f32(3, 4), i64(2)));
    assertEquals(
        f32(3, 4),
        infer1(
            Op.SCATTER_ELEMENTS,
            Attrs.of("axis", 0, "reduction", "add"),
            f32(3, 4),
            i64(2, 4),
            f32(2, 4)));
    assertThrows(
        ShapeException.class,
        () -> infer1(Op.SCATTER_ELEMENTS, Attrs.NONE, f32(3, 4), i64(2, 4), f32(2, 3)));
    assertThrows(
        ShapeException.class,
        () ->
            infer1(
                Op.SCATTER_ELEMENTS,
                Attrs.of("reduction", "max"),
                f32(3, 4),
                i64(2, 4),
                f32(2, 4)));
  }

  @Test
  void costsFromTheDefinitions() {
    DimSize exact = Dim::value;
    // [2, 3] @ [3, 4]: 2 * 8 outputs * 3 = 48
    assertEquals(48.0, OpDefs.of(Op.MATMUL).flops(List.of(f32(2, 3), f32(3, 4)), f32(2, 4), exact));
    // conv: 2 * outputs * (C * kh * kw) = 2 * (8 * 30 * 30) * 27
    assertEquals(
        2.0 * 8 * 30 * 30 * 27,
        OpDefs.of(Op.CONV2D)
            .flops(List.of(f32(1, 3, 32, 32), f32(8, 3, 3, 3)), f32(1, 8, 30, 30), exact));
    assertEquals(4.0 * 6, OpDefs.of(Op.EXP).flops(List.of(f32(6)), f32(6), exact));
    assertEquals(0.0, OpDefs.of(Op.RESHAPE).flops(List.of(f32(6)), f32(2, 3), exact));
    assertEquals(12.0, OpDefs.of(Op.REDUCE_SUM).flops(List.of(f32(3, 4)), f32(3), exact));
    assertEquals(
        5.0 * 16, OpDefs.of(Op.RMS_NORM).flops(List.of(f32(2, 8), f32(8)), f32(2, 8), exact));
  }

  @Test
  void attributeDefaultsAreReadFromTheirSpec() {
    assertEquals(1e-6, NormalizationOps.RMS_NORM_EPS.get(Attrs.NONE));
    assertEquals(1e-5, NormalizationOps.LAYER_NORM_EPS.get(Attrs.NONE));
    assertEquals(0.5, NormalizationOps.RMS_NORM_EPS.get(Attrs.of("eps", 0.5)));
    assertEquals("1e-6", NormalizationOps.RMS_NORM_EPS.defaultText());
    assertEquals("-1", ShapeOps.AXIS_LAST.defaultText());
    assertEquals("false", AttentionOps.CAUSAL.defaultText());
    assertEquals(3, ShapeOps.AXIS_LAST.axis(Attrs.NONE, 4));
    assertEquals(1, ShapeOps.AXIS_LAST.axis(Attrs.of("axis", 1), 4));
    assertThrows(IllegalStateException.class, () -> IndexingOps.K.get(Attrs.NONE));
    assertTrue(AttentionOps.CAUSAL_OFFSET.isInternal());
    assertTrue(ShapeOps.DIMS.isRequired());
    assertEquals(
        List.of("x", "gamma"),
        OpDefs.of(Op.RMS_NORM).operands().stream().map(OpDef.Operand::name).toList());
    assertEquals(NormalizationOps.RMS_NORM_EPS, OpDefs.of(Op.RMS_NORM).attr("eps"));
  }
}
