package dev.cmod.ir.graph;

import dev.cmod.ir.type.TensorType;
import java.util.List;

/**
 * A pretrained model from another format (an ONNX file) that a cmod program applies like a frozen
 * module. The importer (backend-onnx) implements it; the compiler only sees this interface.
 */
public interface ImportedModule {
  /** The model's inputs (without initializers), in order. */
  List<String> inputNames();

  /** Their types: known dims as sizes, ONNX dim_params as symbols, anything else unknown. */
  List<TensorType> inputTypes();

  /** The model's outputs, in order. */
  List<String> outputNames();

  /**
   * Adds the model's computation to {@code g}, fed by {@code args} (one per input, in order). Its
   * weights become PARAM nodes (trainable = false) named {@code prefix + "." + name}, reused when a
   * PARAM of that path already exists. Returns one value per output.
   *
   * @throws ShapeException when an argument's type cannot feed the input it is given to
   * @throws ImportException when the model uses something the importer does not support
   */
  List<Value> apply(Graph g, List<Value> args, String prefix, SourceLoc loc);

  /**
   * A signature written with the import: the model's inputs (every one, in order; null when not
   * written) and the values the import gives (graph outputs or intermediate values of the file, in
   * the order written; null for the file's outputs). A type, where given, is the value's type when
   * the file has none and must agree with the file where it has one.
   */
  record Signature(List<Item> inputs, List<Item> outputs) {}

  /** One value of a {@link Signature}: its ONNX name and its type (null: the file's). */
  record Item(String name, TensorType type) {}

  /** A problem with the imported model itself; the message is written for the user. */
  final class ImportException extends RuntimeException {
    public ImportException(String message) {
      super(message);
    }
  }
}
