package dev.cmod.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** One model with symbolic dims (batch, seq, h, w) run at two different sizes. */
class SymbolicDimsTest {
  private static final Dim BATCH = Dim.sym("batch");
  private static final Dim SEQ = Dim.sym("seq");
  private static final Dim H = Dim.sym("h");
  private static final Dim W = Dim.sym("w");

  /** x: f32[batch, seq, 8], img: f32[batch, 2, h, w]. */
  static CaseBuilder model() {
    CaseBuilder b = new CaseBuilder("symbolic", 7);
    Value x = b.in("x", new TensorType(DType.F32, List.of(BATCH, SEQ, Dim.of(8))));
    Value img = b.in("img", new TensorType(DType.F32, List.of(BATCH, Dim.of(2), H, W)));
    Value heads = b.op(Op.RESHAPE, Attrs.of("dims", List.of(BATCH, SEQ, Dim.of(2), Dim.of(4))), x);
    Value q = b.op(Op.TRANSPOSE, Attrs.of("perm", new long[] {0, 2, 1, 3}), heads);
    Value att = b.op(Op.ATTENTION, Attrs.of("causal", true), q, q, q);
    Value back = b.op(Op.TRANSPOSE, Attrs.of("perm", new long[] {0, 2, 1, 3}), att);
    Value merged = b.op(Op.RESHAPE, Attrs.of("dims", List.of(BATCH, SEQ, Dim.of(8))), back);
    Value tail = b.op(Op.SLICE, Attrs.of("axis", 1, "start", Dim.of(1), "end", SEQ), merged);
    Value head = b.op(Op.SLICE, Attrs.of("axis", 1, "start", Dim.of(0), "end", Dim.of(1)), merged);
    Value rot = b.op(Op.CONCAT, Attrs.of("axis", 1), tail, head);
    Node split =
        b.node(
            Op.SPLIT,
            Attrs.of("axis", 1, "sizes", List.of(SEQ.minus(Dim.of(2)), Dim.of(2))),
            merged);
    Value rows = b.op(Op.RESHAPE, Attrs.of("dims", List.of(BATCH.times(SEQ), Dim.of(8))), merged);
    Value patches = b.op(Op.PATCHIFY, Attrs.of("patch", 2), img);
    Value up = b.op(Op.UPSAMPLE, Attrs.of("factor", 2), img);
    Value flat =
        b.op(Op.RESHAPE, Attrs.of("dims", List.of(BATCH, Dim.of(2).times(H).times(W))), img);
    Value bias = b.param("pos.bias", TestSupport.uniform(new Random(3), -1, 1, 1, 1, 8));
    Value bcast = b.op(Op.BROADCAST, Attrs.of("dims", List.of(BATCH, SEQ, Dim.of(8))), bias);
    Value pad =
        b.op(
            Op.BROADCAST,
            Attrs.of("dims", List.of(BATCH, Dim.of(16), Dim.of(8))),
            b.param("pad", TestSupport.uniform(new Random(4), -1, 1, 1, 16, 8)));
    Value padded = b.op(Op.CONCAT, Attrs.of("axis", 1), merged, pad);
    Value flatPadded =
        b.op(
            Op.RESHAPE,
            Attrs.of("dims", List.of(BATCH, Dim.of(8).times(SEQ.plus(Dim.of(16))))),
            padded);
    Value lastTwo =
        b.op(Op.SLICE, Attrs.of("axis", 1, "start", SEQ.minus(Dim.of(2)), "end", SEQ), merged);
    b.out("flat_padded", flatPadded).out("last2_sliced", lastTwo);
    return b.out("att", merged)
        .out("rot", rot)
        .out("first", split.out(0))
        .out("last2", split.out(1))
        .out("rows", rows)
        .out("patches", patches)
        .out("up", up)
        .out("flat", flat)
        .out("bcast", bcast)
        .out("x_copy", x)
        .out("att_again", merged);
  }

  @ParameterizedTest
  @CsvSource({"2, 5, 4, 6", "1, 9, 8, 2"})
  void runsAtDifferentSizes(int batch, int seq, int h, int w) {
    CaseBuilder b = model();
    Random rnd = new Random(batch * 1000 + seq);
    Tensor x = TestSupport.uniform(rnd, -1, 1, batch, seq, 8);
    Tensor img = TestSupport.uniform(rnd, -1, 1, batch, 2, h, w);
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    feeds.put("x", x);
    feeds.put("img", img);
    Map<String, Tensor> got = TestSupport.runOrt(b.g, feeds);

    // shapes agree with the IR types evaluated at these sizes
    Map<String, Long> sizes =
        Map.of("batch", (long) batch, "seq", (long) seq, "h", (long) h, "w", (long) w);
    for (Map.Entry<String, Value> o : b.g.outputs().entrySet()) {
      long[] want =
          o.getValue().type().dims().stream().mapToLong(d -> d.eval(sizes::get)).toArray();
      assertArrayEquals(want, got.get(o.getKey()).shape(), "shape of " + o.getKey());
    }

    // values by hand
    Tensor att = attentionByHand(x, batch, seq);
    TestSupport.assertClose(att, got.get("att"), "att");
    TestSupport.assertClose(att, got.get("att_again"), "att_again");
    TestSupport.assertClose(x, got.get("x_copy"), "x_copy");
    float[] rot = new float[att.size()];
    for (int bi = 0; bi < batch; bi++) {
      for (int s = 0; s < seq; s++) {
        System.arraycopy(att.floats(), (bi * seq + (s + 1) % seq) * 8, rot, (bi * seq + s) * 8, 8);
      }
    }
    TestSupport.assertClose(Tensor.ofFloats(att.shape(), rot), got.get("rot"), "rot");
    TestSupport.assertClose(
        att.reshape(new long[] {(long) batch * seq, 8}), got.get("rows"), "rows");
    TestSupport.assertClose(OpLoweringTest.patchifyByHand(img, 2), got.get("patches"), "patches");
    TestSupport.assertClose(img.reshape(new long[] {batch, 2L * h * w}), got.get("flat"), "flat");
    float[] up = new float[img.size() * 4];
    for (int p = 0; p < batch * 2; p++) {
      for (int i = 0; i < 2 * h; i++) {
        for (int j = 0; j < 2 * w; j++) {
          up[(p * 2 * h + i) * 2 * w + j] = img.floats()[(p * h + i / 2) * w + j / 2];
        }
      }
    }
    TestSupport.assertClose(
        Tensor.ofFloats(new long[] {batch, 2, 2L * h, 2L * w}, up), got.get("up"), "up");
    float[] first = new float[batch * (seq - 2) * 8];
    for (int bi = 0; bi < batch; bi++) {
      System.arraycopy(att.floats(), bi * seq * 8, first, bi * (seq - 2) * 8, (seq - 2) * 8);
    }
    TestSupport.assertClose(
        Tensor.ofFloats(new long[] {batch, seq - 2, 8}, first), got.get("first"), "first");

    TestSupport.assertClose(got.get("last2"), got.get("last2_sliced"), "slice == split");
    float[] fp = got.get("flat_padded").floats();
    for (int bi = 0; bi < batch; bi++) {
      for (int i = 0; i < seq * 8; i++) {
        assertEquals(
            att.floats()[bi * seq * 8 + i], fp[bi * (seq + 16) * 8 + i], 1e-6, "flat_padded");
      }
    }

    // and the reference interpreter (skipped while it is a stub)
    TestSupport.assertAllClose(
        TestSupport.reference(b.g, feeds), got, "symbolic model vs interpreter");
  }

  /**
   * Causal self-attention over two heads of 4 channels, by hand, back in [batch, seq, 8] layout.
   */
  private static Tensor attentionByHand(Tensor x, int batch, int seq) {
    float[] q = new float[x.size()];
    for (int bi = 0; bi < batch; bi++) {
      for (int s = 0; s < seq; s++) {
        for (int hd = 0; hd < 2; hd++) {
          for (int c = 0; c < 4; c++) {
            q[((bi * 2 + hd) * seq + s) * 4 + c] = x.floats()[(bi * seq + s) * 8 + hd * 4 + c];
          }
        }
      }
    }
    Tensor qt = Tensor.ofFloats(new long[] {batch, 2, seq, 4}, q);
    Tensor a = OpLoweringTest.attentionByHand(qt, qt, qt, null, true);
    float[] out = new float[x.size()];
    for (int bi = 0; bi < batch; bi++) {
      for (int s = 0; s < seq; s++) {
        for (int hd = 0; hd < 2; hd++) {
          for (int c = 0; c < 4; c++) {
            out[(bi * seq + s) * 8 + hd * 4 + c] = a.floats()[((bi * 2 + hd) * seq + s) * 4 + c];
          }
        }
      }
    }
    return Tensor.ofFloats(x.shape(), out);
  }

  @ParameterizedTest
  @CsvSource({"3, 4", "5, 16"})
  void attentionWithSymbolicHeadSize(int seq, int head) {
    CaseBuilder b = new CaseBuilder("symbolic_head", 11);
    Value q = b.in("q", new TensorType(DType.F32, List.of(Dim.of(2), SEQ, Dim.sym("e"))));
    Value k = b.in("k", new TensorType(DType.F32, List.of(Dim.of(2), SEQ, Dim.sym("e"))));
    b.out("y", b.op(Op.ATTENTION, Attrs.of("causal", true), q, k, k));
    Random rnd = new Random(seq);
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    feeds.put("q", TestSupport.uniform(rnd, -1, 1, 2, seq, head));
    feeds.put("k", TestSupport.uniform(rnd, -1, 1, 2, seq, head));
    Map<String, Tensor> got = TestSupport.runOrt(b.g, feeds);
    TestSupport.assertClose(
        OpLoweringTest.attentionByHand(feeds.get("q"), feeds.get("k"), feeds.get("k"), null, true),
        got.get("y"),
        "attention with symbolic head size");
    TestSupport.assertAllClose(TestSupport.reference(b.g, feeds), got, "vs interpreter");
  }

  @Test
  void unboundSymbolIsAClearError() {
    CaseBuilder b = new CaseBuilder("unbound", 1);
    Value x = b.in("x", new TensorType(DType.F32, List.of(Dim.sym("n"))));
    b.out("y", b.op(Op.RESHAPE, Attrs.of("dims", List.of(Dim.sym("m"))), x));
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> OnnxEmitter.emit(b.g, EmitOptions.defaults()));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'m'"), e.getMessage());
  }

  @Test
  void unknownDimsAreLeftOpen() throws Exception {
    CaseBuilder b = new CaseBuilder("unknown", 1);
    Value x = b.in("x", new TensorType(DType.F32, List.of(Dim.UNKNOWN, Dim.of(2))));
    b.out("y", b.op(Op.EXP, x));
    ModelProto m = ModelProto.parseFrom(OnnxEmitter.emit(b.g, EmitOptions.defaults()));
    TensorShapeProto.Dimension d =
        m.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0);
    org.junit.jupiter.api.Assertions.assertFalse(d.hasDimValue() || d.hasDimParam());
    Map<String, Tensor> got =
        TestSupport.runOrt(b.g, Map.of("x", Tensor.zeros(DType.F32, new long[] {3, 2})));
    assertArrayEquals(new long[] {3, 2}, got.get("y").shape());
  }

  @Test
  void symbolicDimsBecomeDimParams() throws Exception {
    ModelProto m = ModelProto.parseFrom(OnnxEmitter.emit(model().g, EmitOptions.defaults()));
    assertEquals(List.of("batch", "seq", "8"), dimsOf(m.getGraph().getInput(0)));
    assertEquals(List.of("batch", "2", "h", "w"), dimsOf(m.getGraph().getInput(1)));
    ValueInfoProto patches =
        m.getGraph().getOutputList().stream()
            .filter(v -> v.getName().equals("patches"))
            .findFirst()
            .orElseThrow();
    assertEquals(List.of("batch", "(h/2)*(w/2)", "8"), dimsOf(patches));
    ValueInfoProto first =
        m.getGraph().getOutputList().stream()
            .filter(v -> v.getName().equals("first"))
            .findFirst()
            .orElseThrow();
    assertEquals(List.of("batch", "seq-2", "8"), dimsOf(first));
    // one Shape node per input that binds a symbol, not one per use
    long shapes =
        m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Shape")).count();
    List<String> shapeInputs =
        m.getGraph().getNodeList().stream()
            .filter(n -> n.getOpType().equals("Shape"))
            .map(n -> n.getInput(0))
            .collect(Collectors.toList());
    assertEquals(
        shapeInputs.stream().distinct().count(), shapes, "Shape nodes are shared: " + shapeInputs);
  }

  private static List<String> dimsOf(ValueInfoProto v) {
    List<String> out = new ArrayList<>();
    for (TensorShapeProto.Dimension d : v.getType().getTensorType().getShape().getDimList()) {
      out.add(d.hasDimValue() ? Long.toString(d.getDimValue()) : d.getDimParam());
    }
    return out;
  }
}
