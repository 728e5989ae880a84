package dev.cmod.api;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.Cost;
import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.Severity;
import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.EmitOptions;
import dev.cmod.onnx.ExternalDataWriter;
import dev.cmod.onnx.OnnxEmitter;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.Target;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One successful compilation: what the model declares ({@link #facts()}: inputs and outputs with
 * their modalities, symbol bounds, budget), what it holds ({@link #parameters()}), its checked and
 * optimized IR ({@link #graph()}), its ONNX artifact for the chosen target ({@link #onnx()}), and
 * runs on ONNX Runtime. Emission happens once, on first use.
 */
public final class CompiledModel {
  private final Compilation.Result result;
  private final Target target;
  private final java.nio.file.Path source;
  private ModelProto model;
  private byte[] bytes;

  CompiledModel(Compilation.Result result, Target target, java.nio.file.Path source) {
    this.result = result;
    this.target = target;
    this.source = source;
  }

  /**
   * Input tensors from real data, through the codecs the model declares with its inputs ({@code
   * from image(...)}, {@code from wav(...)}, {@code from tokenizer(...)}, {@code from
   * labels(...)}): by input name, the values {@code cmod run --input NAME=VALUE} takes (a file,
   * folder or pattern; text; a label — several for a batch). Inputs a tokenizer fills (its mask)
   * are in the result too.
   *
   * @throws dev.cmod.cli.HostCodecs.DataException for data that does not decode
   */
  public Map<String, Tensor> inputsFrom(Map<String, List<String>> values) {
    return dev.cmod.cli.HostCodecs.inputs(result.facts(), source, values);
  }

  /**
   * The outputs that declare a codec ({@code to labels(...)}, {@code to ctc(...)}, {@code to
   * wav(...)}...), decoded: the lines {@code cmod run} prints and the files it writes.
   */
  public Map<String, dev.cmod.cli.HostCodecs.Decoded> decode(Map<String, Tensor> outputs) {
    return dev.cmod.cli.HostCodecs.outputs(result.facts(), source, outputs);
  }

  /** The model's name in the source. */
  public String name() {
    return result.model();
  }

  /** Everything the model declares besides its graph (the compiler's own record of it). */
  public ModelFacts facts() {
    return result.facts();
  }

  public List<ModelFacts.Port> inputs() {
    return result.facts().inputs();
  }

  public List<ModelFacts.Port> outputs() {
    return result.facts().outputs();
  }

  /** The {@code budget} clause's limits by name ({@code params}, {@code flops}, ...). */
  public Map<String, ModelFacts.Limit> budget() {
    return result.facts().budget();
  }

  /** Every parameter of the compiled graph by path, with its type, in graph order. */
  public Map<String, TensorType> parameters() {
    Map<String, TensorType> out = new LinkedHashMap<>();
    for (Node n : result.graph().nodes()) {
      if (n.op() == Op.PARAM) {
        out.put(n.attrs().getString("path"), n.type());
      }
    }
    return out;
  }

  /** How many parameter values the model holds, and how many of them are trainable. */
  public Cost.Params parameterCount() {
    return Cost.params(result.graph());
  }

  /** The warnings and notes of the compilation (a compilation with errors is an exception). */
  public List<Diagnostic> warnings() {
    return result.diagnostics().all().stream().filter(d -> d.severity() != Severity.ERROR).toList();
  }

  /** The checked, optimized IR graph (read it; the artifact is already determined by it). */
  public Graph graph() {
    return result.graph();
  }

  /** The ONNX model as a protobuf message. */
  public synchronized ModelProto onnxModel() {
    if (model == null) {
      model =
          OnnxEmitter.build(
              result.graph(), new EmitOptions(Compilation.VERSION).withTarget(target));
    }
    return model;
  }

  /**
   * The ONNX artifact's bytes, the same as {@code cmod compile} writes with these options. A model
   * whose weights exceed what one ONNX file holds has none: split it with {@link
   * ExternalDataWriter#split} and write both files.
   */
  public synchronized byte[] onnx() {
    if (bytes == null) {
      ModelProto m = onnxModel();
      if (ExternalDataWriter.weightBytes(m) > ExternalDataWriter.AUTO_BYTES) {
        throw new IllegalStateException(
            "the model holds "
                + ExternalDataWriter.weightBytes(m)
                + " bytes of weights, more than one ONNX file can hold; write it with external"
                + " data (ExternalDataWriter.split)");
      }
      bytes = m.toByteArray();
    }
    return bytes;
  }

  /** Loads the artifact in ONNX Runtime on the CPU, for many runs. */
  public Session open() {
    return new Session(OnnxRunner.open(onnx(), OnnxRunner.Device.CPU));
  }

  /** One run: opens a session, runs {@code inputs}, closes it. */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    try (Session s = open()) {
      return s.run(inputs);
    }
  }
}
