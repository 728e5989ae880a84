package dev.cmod.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.ImportedModule.Item;
import dev.cmod.ir.graph.ImportedModule.Signature;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A signature written with {@code import onnx} applied to the model before import: the types it
 * gives become the file's own (graph inputs, and outputs where the file has none), and the values
 * it reads become the graph's outputs — so an intermediate value of the model (a hidden layer) is
 * read exactly like an output, through both tiers (a raised value directly, a value inside an
 * opaque region as one more output of the region). Types it gives must agree with the types the
 * file records.
 */
final class ImportSignatures {
  private ImportSignatures() {}

  static ModelProto apply(ModelProto m, Signature sig) {
    GraphProto g = m.getGraph();
    GraphProto.Builder gb = g.toBuilder();
    Set<String> inits = new HashSet<>();
    for (TensorProto t : g.getInitializerList()) {
      inits.add(t.getName());
    }
    if (sig.inputs() != null) {
      List<Integer> at = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (int i = 0; i < g.getInputCount(); i++) {
        if (!inits.contains(g.getInput(i).getName())) {
          at.add(i);
          names.add(g.getInput(i).getName());
        }
      }
      if (names.size() != sig.inputs().size()) {
        throw new ImportException(
            "the signature names "
                + sig.inputs().size()
                + " input"
                + (sig.inputs().size() == 1 ? "" : "s")
                + ", the model has "
                + names.size()
                + " ("
                + String.join(", ", names)
                + ")");
      }
      for (int k = 0; k < names.size(); k++) {
        Item it = sig.inputs().get(k);
        if (!it.name().equals(names.get(k))) {
          throw new ImportException(
              "input "
                  + (k + 1)
                  + " of the model is '"
                  + names.get(k)
                  + "', the signature names '"
                  + it.name()
                  + "' (inputs: "
                  + String.join(", ", names)
                  + ")");
        }
        if (it.type() != null) {
          ValueInfoProto file = g.getInput(at.get(k));
          agree(file, it, "input");
          gb.setInput(at.get(k), info(it.name(), it.type()));
        }
      }
    }
    if (sig.outputs() != null) {
      Map<String, ValueInfoProto> known = new HashMap<>();
      g.getValueInfoList().forEach(v -> known.putIfAbsent(v.getName(), v));
      g.getOutputList().forEach(v -> known.put(v.getName(), v));
      Set<String> made = new HashSet<>(inits);
      g.getInputList().forEach(v -> made.add(v.getName()));
      for (NodeProto n : g.getNodeList()) {
        made.addAll(n.getOutputList());
      }
      Set<String> seen = new LinkedHashSet<>();
      gb.clearOutput();
      for (Item it : sig.outputs()) {
        if (!made.contains(it.name())) {
          List<String> outs = g.getOutputList().stream().map(ValueInfoProto::getName).toList();
          throw new ImportException(
              "the signature reads '"
                  + it.name()
                  + "', but the model has no value of that name (its outputs: "
                  + String.join(", ", outs)
                  + "; any value a node makes can be read, by its name in the file)");
        }
        if (!seen.add(it.name())) {
          throw new ImportException("the signature reads '" + it.name() + "' twice");
        }
        ValueInfoProto file = known.get(it.name());
        if (it.type() != null) {
          if (file != null) {
            agree(file, it, "value");
          }
          gb.addOutput(info(it.name(), it.type()));
        } else {
          gb.addOutput(
              file != null ? file : ValueInfoProto.newBuilder().setName(it.name()).build());
        }
      }
    }
    return m.toBuilder().setGraph(gb).build();
  }

  /** Refuses a signature type that contradicts the type the file records for the same value. */
  private static void agree(ValueInfoProto file, Item it, String what) {
    if (!file.getType().hasTensorType()) {
      return;
    }
    TypeProto.Tensor t = file.getType().getTensorType();
    TensorType want = it.type();
    String says = "the signature gives " + what + " '" + it.name() + "' type " + want;
    if (t.getElemType() != 0 && DType.fromOnnx(t.getElemType()) != want.dtype()) {
      throw new ImportException(
          says + ", but the file says its element type is " + DType.fromOnnx(t.getElemType()));
    }
    if (!t.hasShape()) {
      return;
    }
    if (t.getShape().getDimCount() != want.rank()) {
      throw new ImportException(
          says + ", but the file says its rank is " + t.getShape().getDimCount());
    }
    for (int a = 0; a < want.rank(); a++) {
      TensorShapeProto.Dimension d = t.getShape().getDim(a);
      Dim w = want.dim(a);
      if (d.hasDimValue()
          && d.getDimValue() >= 0
          && !(w.isKnown() && w.value() == d.getDimValue())
          && !w.isUnknown()) {
        throw new ImportException(
            says + ", but the file says axis " + a + " has size " + d.getDimValue());
      }
    }
  }

  private static ValueInfoProto info(String name, TensorType t) {
    return TensorProtos.valueInfo(name, t);
  }
}
