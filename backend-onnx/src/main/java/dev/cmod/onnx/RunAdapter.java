package dev.cmod.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoraAdapter;
import dev.cmod.ir.graph.AdapterInterface;
import dev.cmod.ir.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * An adapter file loaded for runs of one base artifact: checked against the artifact's {@link
 * AdapterInterface} first (every tensor must be one of its parameters, with its type and shape), so
 * a wrong adapter is refused with the parameter's name instead of failing inside a run, then handed
 * to ONNX Runtime as an {@code OrtLoraAdapter}, which {@link OnnxRunner#run(Map, RunAdapter)}
 * activates for one run. One loaded adapter may serve any number of runs, also concurrently (a
 * server keeps one per name).
 */
public final class RunAdapter implements AutoCloseable {
  /** An adapter whose tensors do not fit the artifact's interface. */
  public static final class MismatchException extends RuntimeException {
    /** True when a tensor's name is no parameter of the interface (else: its type or shape). */
    public final boolean unknownName;

    MismatchException(String message, boolean unknownName) {
      super(message);
      this.unknownName = unknownName;
    }
  }

  private final String name;
  private final List<String> params;
  private final OrtLoraAdapter ort;

  private RunAdapter(String name, List<String> params, OrtLoraAdapter ort) {
    this.name = name;
    this.params = params;
    this.ort = ort;
  }

  /**
   * Reads and checks an adapter file's bytes against {@code expected} and loads them into ONNX
   * Runtime.
   *
   * @param name what messages and servers call the adapter (its file's stem)
   * @throws OnnxAdapterFile.AdapterFileException when the bytes are not an adapter file
   * @throws MismatchException when a tensor is no parameter of {@code expected} or has another type
   *     or shape
   */
  public static RunAdapter load(String name, byte[] bytes, AdapterInterface expected) {
    Map<String, Tensor> params = OnnxAdapterFile.read(bytes);
    check(params, expected);
    OnnxRunner.env();
    try {
      return new RunAdapter(name, List.copyOf(params.keySet()), OrtLoraAdapter.create(bytes));
    } catch (OrtException e) {
      throw new OnnxAdapterFile.AdapterFileException(
          "ONNX Runtime refused the adapter: " + e.getMessage());
    }
  }

  /**
   * Checks tensors meant as adapter parameters against {@code expected} (the rule for writing an
   * adapter file and for loading one).
   *
   * @throws MismatchException at the first tensor that does not fit
   */
  public static void check(Map<String, Tensor> params, AdapterInterface expected) {
    if (!AdapterInterface.RUNTIME.equals(expected.mode())) {
      throw new MismatchException(
          "the model's adapters are stacked into it ("
              + String.join(", ", expected.adapters())
              + "); pick one per example with the input "
              + expected.indexInput()
              + " instead of an adapter file",
          false);
    }
    for (Map.Entry<String, Tensor> e : params.entrySet()) {
      Tensor t = e.getValue();
      String why = expected.mismatch(e.getKey(), t.dtype(), t.shape());
      if (why != null) {
        boolean unknown = expected.find(e.getKey()) == null;
        String near = unknown ? expected.closest(e.getKey()) : null;
        throw new MismatchException(
            why + (near != null ? " (did you mean '" + near + "'?)" : ""), unknown);
      }
    }
  }

  public String name() {
    return name;
  }

  /** The parameters the adapter replaces, in file order. */
  public List<String> params() {
    return params;
  }

  OrtLoraAdapter ort() {
    return ort;
  }

  @Override
  public void close() {
    ort.close();
  }
}
