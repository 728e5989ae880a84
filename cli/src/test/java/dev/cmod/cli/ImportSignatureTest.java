package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxImports;
import dev.cmod.onnx.OnnxRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The signature written with {@code import onnx}: it reads intermediate values of the model (one
 * the importer raises, and one inside an opaque region, which needs its type there), and gives
 * types the file lacks. The oracle is ONNX Runtime on the original file with those values added as
 * graph outputs.
 */
class ImportSignatureTest extends CommandLineHarness {
  @TempDir Path dir;

  /** x → Relu → h → LpNormalization (opaque, no value_info) → m; y = m + h. */
  private static GraphProto.Builder graph(boolean typedInput) {
    return GraphProto.newBuilder()
        .setName("g")
        .addInput(typedInput ? info("x", "N", 3) : ValueInfoProto.newBuilder().setName("x").build())
        .addOutput(info("y", "N", 3))
        .addNode(node("Relu", "h", "x"))
        .addNode(node("LpNormalization", "m", "h"))
        .addNode(node("Add", "y", "m", "h"));
  }

  private static NodeProto node(String op, String out, String... in) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .setName(out + "_node")
        .addAllInput(List.of(in))
        .addOutput(out)
        .build();
  }

  private static ValueInfoProto info(String name, Object... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      TensorShapeProto.Dimension.Builder b = TensorShapeProto.Dimension.newBuilder();
      if (d instanceof String p) {
        b.setDimParam(p);
      } else {
        b.setDimValue(((Number) d).longValue());
      }
      s.addDim(b);
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(s)))
        .build();
  }

  private static byte[] model(GraphProto.Builder g) {
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
        .setGraph(g)
        .build()
        .toByteArray();
  }

  private Path write(String name, String text) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  private static final Tensor X =
      Tensor.ofFloats(new long[] {2, 3}, new float[] {1, -2, 3, 0.5f, 0.25f, -1});

  /** The cmod program's outputs on ORT, at -O0 and -O2 alike; returns the -O2 ones. */
  private static Map<String, Tensor> runBothLevels(Path src) {
    Map<String, Tensor> last = null;
    for (int level : new int[] {0, 2}) {
      Toolchain.Compiled c =
          Toolchain.compile(
              src,
              CompileOptions.defaults().withOptLevel(level).withOnnxImports(OnnxImports.SERVICE));
      assertTrue(c.ok(), () -> c.result().diagnostics().all().toString());
      try (OnnxRunner r = OnnxRunner.open(c.onnx(), OnnxRunner.Device.CPU)) {
        Map<String, Tensor> got = r.run(Map.of("x", X));
        if (last != null) {
          for (String k : got.keySet()) {
            assertArrayEquals(last.get(k).floats(), got.get(k).floats(), 0f, k);
          }
        }
        last = got;
      }
    }
    return last;
  }

  @Test
  void intermediateValuesAreReadInBothTiers() throws Exception {
    Files.write(dir.resolve("a.onnx"), model(graph(true)));
    // the oracle: the same file with h and m as graph outputs too
    Map<String, Tensor> want;
    try (OnnxRunner r =
        OnnxRunner.open(
            model(graph(true).addOutput(info("h", "N", 3)).addOutput(info("m", "N", 3))),
            OnnxRunner.Device.CPU)) {
      want = r.run(Map.of("x", X));
    }
    Path src =
        write(
            "read.cmod",
            """
            import onnx "a.onnx" as A -> (y, h, "m": f32[N, 3])
            model Read {
              input x: exact f32[n, 3]
              let r = A(x)
              output y: exact f32[n, 3] = r.0
              output h: exact f32[n, 3] = r.1
              output m: exact f32[n, 3] = r.2
            }
            """);
    Map<String, Tensor> got = runBothLevels(src);
    for (String k : List.of("y", "h", "m")) {
      assertArrayEquals(want.get(k).floats(), got.get(k).floats(), 1e-6f, k);
    }
  }

  /** A number given for a scalar input of an imported model becomes a constant of its type. */
  @Test
  void aNumberFeedsAScalarInput() throws Exception {
    ValueInfoProto k =
        ValueInfoProto.newBuilder()
            .setName("k")
            .setType(
                TypeProto.newBuilder()
                    .setTensorType(
                        TypeProto.Tensor.newBuilder()
                            .setElemType(7)
                            .setShape(TensorShapeProto.newBuilder())))
            .build();
    GraphProto.Builder g =
        GraphProto.newBuilder()
            .setName("g")
            .addInput(info("x", "N", 3))
            .addInput(k)
            .addOutput(info("y", "N", 3))
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Cast")
                    .addInput("k")
                    .addOutput("kf")
                    .addAttribute(
                        ai.onnx.proto.OnnxMl.AttributeProto.newBuilder()
                            .setName("to")
                            .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT)
                            .setI(1)))
            .addNode(node("Mul", "y", "x", "kf"));
    Files.write(dir.resolve("k.onnx"), model(g));
    Map<String, Tensor> want;
    try (OnnxRunner r = OnnxRunner.open(model(g), OnnxRunner.Device.CPU)) {
      want =
          r.run(
              Map.of(
                  "x",
                  X,
                  "k",
                  Tensor.ofLongs(dev.cmod.ir.type.DType.I64, new long[0], new long[] {3})));
    }
    Path src =
        write(
            "k.cmod",
            """
            import onnx "k.onnx" as K
            model Scaled {
              input x: exact f32[n, 3]
              output y: exact f32[n, 3] = K(x, 3)
            }
            """);
    assertArrayEquals(want.get("y").floats(), runBothLevels(src).get("y").floats(), 0f);
    Path bad = write("kb.cmod", Files.readString(src).replace("K(x, 3)", "K(x, 2.5)"));
    assertEquals(1, run("compile", bad.toString(), "-o", dir.resolve("kb.onnx").toString()));
    assertTrue(
        err().contains("input 'k' of K is a scalar of type i64, and the number 2.5 is not one"),
        err());
  }

  /** `cmod explain` lists the opaque regions of an imported model with their operators. */
  @Test
  void explainListsTheOpaqueRegions() throws Exception {
    Files.write(dir.resolve("a.onnx"), model(graph(true)));
    Path src =
        write(
            "plain.cmod",
            """
            import onnx "a.onnx" as A
            model Plain {
              input x: exact f32[n, 3]
              output y: exact f32[n, 3] = A(x)
            }
            """);
    assertEquals(0, run("explain", src.toString()), err());
    assertTrue(
        out().contains("opaque ONNX regions (run by ONNX Runtime as the file has them): 1"), out());
    assertTrue(
        out().matches("(?s).*r\\d+: 2 nodes \\(Add ×1, LpNormalization ×1\\), 0 weights inside.*"),
        out());
  }

  /** A LoRA that can only find weights inside an opaque region says why it matches nothing. */
  @Test
  void loraOnWeightsInsideARegionSaysWhy() throws Exception {
    ai.onnx.proto.OnnxMl.TensorProto w =
        ai.onnx.proto.OnnxMl.TensorProto.newBuilder()
            .setName("w")
            .setDataType(1)
            .addDims(3)
            .addDims(3)
            .addAllFloatData(java.util.Collections.nCopies(9, 0.5f))
            .build();
    GraphProto.Builder g =
        GraphProto.newBuilder()
            .setName("g")
            .addInput(info("x", "N", 3))
            .addOutput(info("y", "N", 3))
            .addInitializer(w)
            .addNode(node("LpNormalization", "m", "x"))
            .addNode(node("MatMul", "y", "m", "w"));
    Files.write(dir.resolve("w.onnx"), model(g));
    Path src =
        write(
            "lora.cmod",
            """
            import onnx "w.onnx" as W
            model Tuned {
              input x: exact f32[n, 3]
              let t = W with lora(rank = 2) on "*"
              output y: exact f32[n, 3] = t(x)
            }
            """);
    assertEquals(1, run("compile", src.toString(), "-o", dir.resolve("l.onnx").toString()));
    assertTrue(err().contains("\"*\" matches no weight of W"), err());
    assertTrue(err().contains("weights inside opaque ONNX regions"), err());
  }

  @Test
  void aValueInsideARegionNeedsItsTypeInTheSignature() throws Exception {
    Files.write(dir.resolve("a.onnx"), model(graph(true)));
    Path src =
        write(
            "untyped.cmod",
            """
            import onnx "a.onnx" as A -> ("m")
            model Read {
              input x: exact f32[n, 3]
              output m: exact f32[n, 3] = A(x)
            }
            """);
    assertEquals(1, run("compile", src.toString(), "-o", dir.resolve("u.onnx").toString()));
    assertTrue(err().contains("error[CM0501]"), err());
    assertTrue(err().contains("give it in the import's signature"), err());
    assertTrue(!Files.exists(dir.resolve("u.onnx")));
  }

  @Test
  void theSignatureTypesAnInputTheFileLeavesUntyped() throws Exception {
    Files.write(dir.resolve("b.onnx"), model(graph(false)));
    Path plain =
        write(
            "plain.cmod",
            """
            import onnx "b.onnx" as B
            model P {
              input x: exact f32[n, 3]
              output y: exact f32[n, 3] = B(x)
            }
            """);
    assertEquals(1, run("compile", plain.toString(), "-o", dir.resolve("p.onnx").toString()));
    assertTrue(err().contains("ONNX input 'x' is not a tensor"), err());
    Map<String, Tensor> want;
    try (OnnxRunner r = OnnxRunner.open(model(graph(true)), OnnxRunner.Device.CPU)) {
      want = r.run(Map.of("x", X));
    }
    Path typed =
        write(
            "typed.cmod",
            """
            import onnx "b.onnx" as B : (x: f32[b, 3]) -> (y: f32[b, 3])
            model P {
              input x: exact f32[n, 3]
              output y: exact f32[n, 3] = B(x)
            }
            """);
    assertArrayEquals(want.get("y").floats(), runBothLevels(typed).get("y").floats(), 1e-6f);
  }

  @Test
  void aSignatureThatDoesNotFitTheModelIsAnErrorAtTheSignature() throws Exception {
    Files.write(dir.resolve("a.onnx"), model(graph(true)));
    Map<String, String> cases =
        Map.of(
            ": (z)", "input 1 of the model is 'x', the signature names 'z'",
            ": (x, w)", "the signature names 2 inputs, the model has 1 (x)",
            "-> (nope)", "the signature reads 'nope', but the model has no value of that name",
            ": (x: i64[b, 3])", "but the file says its element type is f32",
            ": (x: f32[b, 4])", "but the file says axis 1 has size 3",
            "-> (y, y)", "the signature reads 'y' twice");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      Path src =
          write(
              "bad.cmod",
              "import onnx \"a.onnx\" as A "
                  + c.getKey()
                  + "\nmodel M {\n  input x: exact f32[n, 3]\n  output y: exact f32[n, 3] = A(x)\n}\n");
      assertEquals(1, run("compile", src.toString(), "-o", dir.resolve("bad.onnx").toString()));
      assertTrue(err().contains("bad.cmod:1:27: error[CM0501]"), c.getKey() + ": " + err());
      assertTrue(err().contains(c.getValue()), c.getKey() + ": " + err());
    }
  }
}
