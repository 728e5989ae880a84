package dev.cmod.cli.serve;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.ir.type.DType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The inputs and outputs of a served model, read once from its ONNX graph: what the metadata
 * endpoint reports, what requests are checked against, and whether requests can be merged along a
 * batch axis (every input and every output starts with the same symbolic dim).
 *
 * @param inputs the graph inputs that are not initializers, in graph order
 * @param outputs the graph outputs, in graph order
 * @param batchSymbol the symbol of the shared leading dim, or null when requests are never merged
 */
public record ModelSignature(List<Port> inputs, List<Port> outputs, String batchSymbol) {

  /**
   * One input or output.
   *
   * @param dims each dim's fixed size, or -1 when it is symbolic or unknown
   * @param symbols each dim's symbol name, or null when it is fixed or unnamed
   */
  public record Port(String name, DType dtype, long[] dims, String[] symbols) {
    /** The dims as the v2 metadata gives them: -1 for symbolic. */
    public long[] shape() {
      return dims.clone();
    }
  }

  /** Thrown for a model the server cannot take (an input or output of a type it cannot carry). */
  public static final class UnsupportedModel extends RuntimeException {
    UnsupportedModel(String message) {
      super(message);
    }
  }

  public ModelSignature {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /** Whether requests may be merged: the model has a batch axis. */
  public boolean batchable() {
    return batchSymbol != null;
  }

  /** The input named {@code name}, or null. */
  public Port input(String name) {
    for (Port p : inputs) {
      if (p.name().equals(name)) {
        return p;
      }
    }
    return null;
  }

  /** The output named {@code name}, or null. */
  public Port output(String name) {
    for (Port p : outputs) {
      if (p.name().equals(name)) {
        return p;
      }
    }
    return null;
  }

  /** Reads the signature of {@code model}'s main graph. */
  public static ModelSignature of(ModelProto model) {
    GraphProto g = model.getGraph();
    Set<String> initializers = new HashSet<>();
    g.getInitializerList().forEach(t -> initializers.add(t.getName()));
    List<Port> ins = new ArrayList<>();
    for (ValueInfoProto v : g.getInputList()) {
      if (!initializers.contains(v.getName())) {
        ins.add(port(v, "input"));
      }
    }
    List<Port> outs = new ArrayList<>();
    for (ValueInfoProto v : g.getOutputList()) {
      outs.add(port(v, "output"));
    }
    return new ModelSignature(ins, outs, batchSymbol(ins, outs));
  }

  private static Port port(ValueInfoProto v, String role) {
    if (!v.getType().hasTensorType()) {
      throw new UnsupportedModel(
          role + " '" + v.getName() + "' is not a tensor; cmod serve carries tensors only");
    }
    var tt = v.getType().getTensorType();
    DType dtype = DType.fromOnnx(tt.getElemType());
    if (dtype == null) {
      throw new UnsupportedModel(
          role
              + " '"
              + v.getName()
              + "' has ONNX element type "
              + tt.getElemType()
              + ", which cmod serve cannot carry in JSON");
    }
    TensorShapeProto shape = tt.getShape();
    long[] dims = new long[shape.getDimCount()];
    String[] symbols = new String[dims.length];
    for (int i = 0; i < dims.length; i++) {
      TensorShapeProto.Dimension d = shape.getDim(i);
      if (d.hasDimValue()) {
        dims[i] = d.getDimValue();
      } else {
        dims[i] = -1;
        symbols[i] = d.hasDimParam() && !d.getDimParam().isEmpty() ? d.getDimParam() : null;
      }
    }
    return new Port(v.getName(), dtype, dims, symbols);
  }

  /**
   * The symbol every input and output starts with, or null: only then does row {@code i} of a
   * merged run belong to one request, and only then can the outputs be split again.
   */
  private static String batchSymbol(List<Port> ins, List<Port> outs) {
    if (ins.isEmpty() || outs.isEmpty()) {
      return null;
    }
    String sym = null;
    for (List<Port> ports : List.of(ins, outs)) {
      for (Port p : ports) {
        String s = p.dims().length == 0 ? null : p.symbols()[0];
        if (s == null || (sym != null && !sym.equals(s))) {
          return null;
        }
        sym = s;
      }
    }
    return sym;
  }
}
