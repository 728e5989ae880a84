package dev.cmod.onnx.importer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.OnnxImporter;
import dev.cmod.onnx.OnnxRegionRunner;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.OnnxRunner.Device;
import dev.cmod.testkit.Need;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The ONNX backend node tests (Debian's libonnx-testdata, {@link Need#onnxTestData()}): every model
 * the importer accepts is imported into a graph with the test's input shapes, emitted, run on ONNX
 * Runtime and compared with the expected outputs; the reference interpreter is compared too. Models
 * using operators or element types the importer does not support are skipped (and counted).
 */
class OnnxBackendNodeTestsImportTest {
  private static final SourceLoc LOC = new SourceLoc("node.cmod", 1, 1);
  private static final double RTOL = 1e-3;
  private static final double ATOL = 1e-4;

  /**
   * The expected outputs are ONNX's reference data, the specification of each operator: where they
   * hold a NaN the imported model must compute NaN there, so NaN matches NaN (explicitly, here
   * only).
   */
  private static final boolean NAN_MATCHES_NAN = true;

  @Test
  void importedNodeTestsMatchTheirExpectedOutputs() throws Exception {
    Need.ONNX_TESTDATA.require();
    List<Path> dirs = Need.onnxNodeTests();
    int tried = 0;
    int passedOrt = 0;
    int passedInterp = 0;
    int opaqueCount = 0;
    Map<String, Integer> skipped = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    int ortAloneFails = 0;
    for (Path dir : dirs) {
      String name = dir.getFileName().toString();
      Graph g;
      Map<String, Tensor> originalFeeds = new LinkedHashMap<>();
      Map<String, Tensor> feeds = new LinkedHashMap<>();
      List<Tensor> expected = new ArrayList<>();
      try {
        ImportedModule m = OnnxImporter.load(Files.readAllBytes(dir.resolve("model.onnx")), dir);
        g = new Graph(name);
        List<Value> args = new ArrayList<>();
        for (int i = 0; i < m.inputNames().size(); i++) {
          Tensor t =
              OnnxImporter.readTensor(
                  Files.readAllBytes(dir.resolve("test_data_set_0/input_" + i + ".pb")),
                  m.inputTypes().get(i).dtype());
          String in = "in" + i;
          feeds.put(in, t);
          originalFeeds.put(m.inputNames().get(i), t);
          args.add(g.addInput(in, TensorType.of(t.dtype(), t.shape()), LOC));
        }
        List<Value> outs = m.apply(g, args, "m", LOC);
        for (int i = 0; i < outs.size(); i++) {
          g.setOutput("out" + i, outs.get(i));
          expected.add(
              OnnxImporter.readTensor(
                  Files.readAllBytes(dir.resolve("test_data_set_0/output_" + i + ".pb")),
                  outs.get(i).type().dtype()));
        }
      } catch (ImportedModule.ImportException e) {
        skipped.merge(reason(e.getMessage()), 1, Integer::sum);
        continue;
      } catch (java.nio.file.NoSuchFileException e) {
        skipped.merge("missing test data", 1, Integer::sum);
        continue;
      } catch (dev.cmod.ir.graph.ShapeException e) {
        if (!e.getMessage().startsWith("ONNX input")) {
          throw e;
        }
        // a few CastLike tests of ONNX 1.12 give data of another shape than their model declares
        skipped.merge("test data does not fit the model's declared inputs", 1, Integer::sum);
        continue;
      } catch (RuntimeException e) {
        tried++;
        failures.add(name + ": import: " + e);
        continue;
      }
      if (!ortAlonePasses(dir, originalFeeds, expected)) {
        // the oracle: ONNX Runtime on the original file; what it cannot run is not cmod's gap
        ortAloneFails++;
        continue;
      }
      tried++;
      boolean opaque = g.nodes().stream().anyMatch(n -> n.op() == Op.ONNX_REGION);
      opaqueCount += opaque ? 1 : 0;
      try {
        Map<String, Tensor> got = ImportSupport.runEmitted(g, feeds);
        boolean ok = true;
        for (int i = 0; i < expected.size(); i++) {
          Tensor h = got.get("out" + i);
          if (!ImportSupport.close(h, expected.get(i), RTOL, ATOL, NAN_MATCHES_NAN)) {
            ok = false;
            failures.add(
                name
                    + ": ORT output "
                    + i
                    + " differs: got "
                    + h
                    + ", want "
                    + expected.get(i)
                    + " (max diff "
                    + ImportSupport.maxAbsDiff(h, expected.get(i))
                    + ")");
          }
        }
        passedOrt += ok ? 1 : 0;
      } catch (RuntimeException e) {
        failures.add(name + ": ORT: " + e.getMessage());
      }
      try {
        Map<String, Tensor> got = Interpreter.run(g, feeds, OnnxRegionRunner.CPU);
        boolean ok = true;
        for (int i = 0; i < expected.size(); i++) {
          ok &=
              ImportSupport.close(got.get("out" + i), expected.get(i), RTOL, ATOL, NAN_MATCHES_NAN);
        }
        if (!ok) {
          failures.add(name + ": interpreter differs from the expected output");
        }
        passedInterp += ok ? 1 : 0;
      } catch (RuntimeException e) {
        failures.add(name + ": interpreter: " + e.getMessage());
      }
    }
    int skippedTotal = skipped.values().stream().mapToInt(Integer::intValue).sum();
    System.out.println(
        "ONNX node tests: "
            + dirs.size()
            + " found, "
            + tried
            + " imported and run ("
            + opaqueCount
            + " with opaque regions), "
            + passedOrt
            + " pass on ORT, "
            + passedInterp
            + " pass on the interpreter, "
            + skippedTotal
            + " skipped, "
            + ortAloneFails
            + " imported but left out (ONNX Runtime alone fails the original file)");
    skipped.forEach((k, v) -> System.out.println("  skipped " + v + ": " + k));
    failures.forEach(f -> System.out.println("  FAIL " + f));
    assertTrue(tried >= 700, "only " + tried + " node tests could be imported");
    assertTrue(failures.isEmpty(), failures.size() + " failures:\n" + String.join("\n", failures));
  }

  /** Whether ONNX Runtime, given the original file, computes the expected outputs. */
  private static boolean ortAlonePasses(Path dir, Map<String, Tensor> feeds, List<Tensor> expected)
      throws java.io.IOException {
    try (OnnxRunner r =
        OnnxRunner.open(Files.readAllBytes(dir.resolve("model.onnx")), Device.CPU)) {
      Map<String, Tensor> got = r.run(feeds);
      for (int i = 0; i < expected.size(); i++) {
        Tensor h = got.get(r.outputNames().get(i));
        if (!ImportSupport.close(h, expected.get(i), RTOL, ATOL, NAN_MATCHES_NAN)) {
          return false;
        }
      }
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** The operator or element type an ImportException names, to group skip reasons. */
  private static String reason(String message) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("ONNX operator '([^']+)'").matcher(message);
    if (m.find()) {
      return "operator "
          + m.group(1)
          + (message.contains("is not supported by the importer") && !message.contains(": ")
              ? ""
              : " ("
                  + message.replaceAll(".*\\): ", "").replaceAll("ONNX operator '[^']+'", "").trim()
                  + ")");
    }
    m = java.util.regex.Pattern.compile("element type (\\w+)").matcher(message);
    if (m.find()) {
      return "element type " + m.group(1);
    }
    return message.length() > 100 ? message.substring(0, 100) : message;
  }
}
