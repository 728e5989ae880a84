package dev.cmod.cli.deploy;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cmod.compiler.sema.DataCodec;
import java.util.ArrayList;
import java.util.List;

/**
 * What a serving engine must know of a model, read from the ONNX artifact itself (not from the
 * source), so that every layout describes exactly the file it ships: the graph's inputs and outputs
 * with their element types and dims, the batch axis, and the preprocessing the artifact's metadata
 * says a client must do.
 *
 * <p>A model is batched when every input and output has a leading dim and it is the same symbol
 * (cmod's implicit {@code batch}): an engine may then stack requests along axis 0. A model with a
 * fixed or differing leading dim is served unbatched, with its full dims.
 */
public record ServingSignature(
    List<Port> inputs, List<Port> outputs, String batchSymbol, List<String> preprocessing) {

  /**
   * One graph input or output: its ONNX element type ({@code TensorProto.DataType} number) and its
   * dims, each a size or the symbol's name.
   */
  public record Port(String name, int elemType, List<Object> dims) {
    /** The dims with every symbolic one as -1 (the engines' "any size"). */
    public List<Long> sizes() {
      List<Long> out = new ArrayList<>();
      for (Object d : dims) {
        out.add(d instanceof Long l ? l : -1L);
      }
      return out;
    }

    /** {@link #sizes()} without the leading batch axis. */
    public List<Long> sizesWithoutBatch() {
      List<Long> s = sizes();
      return s.subList(1, s.size());
    }
  }

  public boolean batched() {
    return batchSymbol != null;
  }

  /** Reads the signature of {@code m}'s graph and its preprocessing metadata. */
  public static ServingSignature of(ModelProto m) {
    List<Port> inputs = ports(m.getGraph().getInputList());
    List<Port> outputs = ports(m.getGraph().getOutputList());
    List<String> pre = new ArrayList<>();
    for (StringStringEntryProto e : m.getMetadataPropsList()) {
      try {
        DataCodec c = DataCodec.fromMetadata(e.getKey(), e.getValue());
        if (c != null) {
          pre.add(describe(c));
        }
      } catch (IllegalArgumentException bad) {
        pre.add(e.getKey() + ": " + e.getValue());
      }
    }
    return new ServingSignature(inputs, outputs, batchSymbol(inputs, outputs), List.copyOf(pre));
  }

  /**
   * A codec as the client's job: the host steps (before the request for an input, after the
   * response for an output), the file they need and its hash, and what the graph already does.
   */
  static String describe(DataCodec c) {
    StringBuilder b =
        new StringBuilder(c.input() ? "input '" : "output '")
            .append(c.port())
            .append("' (")
            .append(c.kind())
            .append(c.file() != null ? " \"" + c.file() + "\", sha256 " + c.fileSha256() : "")
            .append("): ")
            .append(c.input() ? "before the request, " : "after the response, ")
            .append(String.join("; ", c.hostSteps()));
    if (!c.graphSteps().isEmpty()) {
      b.append("; then, in the graph: ").append(String.join("; ", c.graphSteps()));
    }
    return b.toString();
  }

  private static List<Port> ports(List<ValueInfoProto> values) {
    List<Port> out = new ArrayList<>();
    for (ValueInfoProto v : values) {
      List<Object> dims = new ArrayList<>();
      for (TensorShapeProto.Dimension d : v.getType().getTensorType().getShape().getDimList()) {
        if (d.hasDimValue()) {
          dims.add(d.getDimValue());
        } else {
          // a dim with neither value nor name is as free as a named one
          dims.add(d.hasDimParam() ? d.getDimParam() : "?");
        }
      }
      out.add(new Port(v.getName(), v.getType().getTensorType().getElemType(), List.copyOf(dims)));
    }
    return List.copyOf(out);
  }

  /** The symbol every port starts with, or null when there is none. */
  private static String batchSymbol(List<Port> inputs, List<Port> outputs) {
    if (inputs.isEmpty() || inputs.get(0).dims().isEmpty()) {
      return null;
    }
    if (!(inputs.get(0).dims().get(0) instanceof String sym) || sym.equals("?")) {
      return null;
    }
    List<Port> all = new ArrayList<>(inputs);
    all.addAll(outputs);
    for (Port p : all) {
      if (p.dims().isEmpty() || !sym.equals(p.dims().get(0))) {
        return null;
      }
    }
    return sym;
  }
}
