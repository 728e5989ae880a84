package dev.cmod.onnx.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.OnnxImporter;
import dev.cmod.onnx.emit.LoweringTable;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.Requires;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The import table is consistent: every entry names an operator of ONNX's default domain defined at
 * an opset the importer follows (checked by the reference implementation, Debian's python3-onnx),
 * every IR operator an entry states has an ONNX lowering, and the translations add no IR operator
 * their entries do not state (checked on the ONNX backend node tests).
 */
class ImportTableTest {
  private static final SourceLoc LOC = new SourceLoc("node.cmod", 1, 1);

  @Test
  @Requires(Need.PYTHON_ONNX)
  void everyEntryIsAnOnnxOperatorOfAFollowedOpset() throws Exception {
    Set<String> names = new TreeSet<>(ImportTable.entries().keySet());
    String script =
        "import sys, onnx.defs as d\n"
            + "top = int(sys.argv[1])\n"
            + "for n in sys.argv[2:]:\n"
            + "    try:\n"
            + "        d.get_schema(n, top, '')\n"
            + "        print('ok', n)\n"
            + "    except Exception as e:\n"
            + "        print('bad', n)\n";
    List<String> cmd =
        new ArrayList<>(
            List.of(Need.python(), "-c", script, String.valueOf(OnnxImporter.MAX_OPSET)));
    cmd.addAll(names);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python did not finish");
    assertEquals(0, p.exitValue(), output);
    List<String> want = new ArrayList<>();
    for (String n : names) {
      want.add("ok " + n);
    }
    assertEquals(want, output.strip().lines().toList());
  }

  @Test
  void everyStatedOperatorIsLowered() {
    List<String> problems = new ArrayList<>();
    for (ImportTable.Entry e : ImportTable.entries().values()) {
      for (Op op : e.raises()) {
        if (op.isLeaf() || !LoweringTable.lowers(op)) {
          problems.add(e.opType() + " -> " + op);
        }
      }
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void controlFlowHasNoEntryAndIsCarriedOpaque() {
    for (String op : List.of("If", "Loop", "Scan")) {
      assertEquals(null, ImportTable.forType(op), op);
    }
  }

  /**
   * Every node test model the importer accepts adds only IR operators stated by the entries of its
   * ONNX nodes, and together the models exercise most entries.
   */
  @Test
  void translationsAddOnlyTheOperatorsTheirEntriesState() throws Exception {
    Need.ONNX_TESTDATA.require();
    List<Path> dirs;
    try (Stream<Path> s = Files.list(Need.onnxTestData())) {
      dirs = s.filter(d -> Files.isRegularFile(d.resolve("model.onnx"))).sorted().toList();
    }
    List<String> problems = new ArrayList<>();
    Set<String> exercised = new TreeSet<>();
    int imported = 0;
    for (Path dir : dirs) {
      byte[] bytes = Files.readAllBytes(dir.resolve("model.onnx"));
      Graph g = new Graph("t");
      try {
        ImportedModule m = OnnxImporter.load(bytes, dir);
        List<Value> args = new ArrayList<>();
        for (int i = 0; i < m.inputNames().size(); i++) {
          Path in = dir.resolve("test_data_set_0/input_" + i + ".pb");
          Tensor t = OnnxImporter.readTensor(Files.readAllBytes(in), m.inputTypes().get(i).dtype());
          args.add(g.addInput("in" + i, TensorType.of(t.dtype(), t.shape()), LOC));
        }
        m.apply(g, args, "m", LOC);
      } catch (ImportedModule.ImportException
          | dev.cmod.ir.graph.ShapeException
          | java.nio.file.NoSuchFileException e) {
        // not imported, or test data that does not fit the model's own declared inputs (a few
        // bfloat16 tests of ONNX 1.12 declare shapes their data does not have)
        continue;
      }
      imported++;
      // a node without an entry, or in a variant its handler refuses, is carried opaque
      Set<Op> stated = EnumSet.of(Op.ONNX_REGION);
      for (NodeProto n : ModelProto.parseFrom(bytes).getGraph().getNodeList()) {
        ImportTable.Entry e = n.getDomain().isEmpty() ? ImportTable.forType(n.getOpType()) : null;
        if (e != null) {
          stated.addAll(e.raises());
          exercised.add(n.getOpType());
        }
      }
      for (Node n : g.nodes()) {
        if (!n.op().isLeaf() && !stated.contains(n.op())) {
          problems.add(dir.getFileName() + ": " + n.op() + " not stated by " + stated);
        }
      }
    }
    assertEquals(List.of(), problems);
    assertTrue(imported > 200, "only " + imported + " node tests imported");
    Set<String> unexercised = new TreeSet<>(ImportTable.entries().keySet());
    unexercised.removeAll(exercised);
    System.out.println("import entries not exercised by the node tests: " + unexercised);
    assertTrue(
        unexercised.size() * 10 <= ImportTable.entries().size(),
        "too many entries the node tests do not exercise: " + unexercised);
  }
}
