package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.ExternalDataWriter;
import dev.cmod.onnx.OnnxImports;
import dev.cmod.onnx.OnnxRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cmod compile --external-data}: the weights go to {@code OUT.onnx.data} beside the model,
 * named by a bare file name; ONNX Runtime loading the model from its folder gives the same outputs
 * as the single-file artifact, and {@code cmod run} runs it.
 */
class ExternalDataEmitTest extends CommandLineHarness {
  @TempDir Path dir;

  @Test
  void weightsBesideTheModelGiveTheSameOutputs() throws Exception {
    Path src = dir.resolve("enc.cmod");
    Files.writeString(
        src,
        """
        import std.nn.{Linear}
        model Enc {
          input x: f32[16]
          let a = Linear(16, 64)
          let b = Linear(64, 8)
          output y: f32[8] = b(relu(a(x)))
        }
        """);
    Path out = dir.resolve("out/enc.onnx");
    Files.createDirectories(out.getParent());
    assertEquals(0, run("compile", src.toString(), "-o", out.toString(), "--external-data"), err());
    Path data = dir.resolve("out/enc.onnx.data");
    assertTrue(Files.isRegularFile(data), out());
    assertTrue(out().contains("and its weights"), out());

    ModelProto m = ModelProto.parseFrom(Files.readAllBytes(out));
    int external = 0;
    for (TensorProto t : m.getGraph().getInitializerList()) {
      if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
        external++;
        assertEquals("enc.onnx.data", t.getExternalData(0).getValue());
        assertEquals(0, Long.parseLong(t.getExternalData(1).getValue()) % ExternalDataWriter.ALIGN);
      } else {
        assertTrue(t.getRawData().size() < ExternalDataWriter.MIN_BYTES, t.getName());
      }
    }
    assertTrue(external >= 2, "the two weight matrices are external: " + external);

    Toolchain.Compiled c =
        Toolchain.compile(src, CompileOptions.defaults().withOnnxImports(OnnxImports.SERVICE));
    Map<String, Tensor> in =
        Toolchain.randomInputs(c.result().graph(), null, Map.of("batch", 3L), 5);
    Map<String, Tensor> want;
    Map<String, Tensor> got;
    try (OnnxRunner a = OnnxRunner.open(c.onnx(), OnnxRunner.Device.CPU);
        OnnxRunner b = OnnxRunner.open(out, OnnxRunner.Device.CPU)) {
      want = a.run(in);
      got = b.run(in);
    }
    assertArrayEquals(want.get("y").floats(), got.get("y").floats(), 0f);

    assertEquals(0, run("run", out.toString()), err());
  }

  @Test
  void aDataFileThatIsALinkIsNotReplaced() throws Exception {
    Path src = dir.resolve("m.cmod");
    Files.writeString(
        src,
        "import std.nn.{Linear}\nmodel M {\n  input x: f32[16]\n  output y: f32[64] ="
            + " Linear(16, 64)(x)\n}\n");
    Path victim = dir.resolve("victim.txt");
    Files.writeString(victim, "keep");
    Files.createSymbolicLink(dir.resolve("m.onnx.data"), victim);
    int rc =
        run("compile", src.toString(), "-o", dir.resolve("m.onnx").toString(), "--external-data");
    assertEquals(1, rc, out());
    assertTrue(err().contains("symbolic link"), err());
    assertEquals("keep", Files.readString(victim));
    assertTrue(!Files.exists(dir.resolve("m.onnx")), "no partial artifact");
  }
}
