package dev.cmod.onnx.importer;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cmod.ir.tensor.Tensor;
import java.util.List;
import java.util.Set;

/**
 * A checked ONNX model as the translation reads it. The reading of the file, its external data and
 * its checks stay with {@link dev.cmod.onnx.OnnxImporter}, which implements this; the translation
 * only sees the graph and converted tensors.
 */
public interface ImportSource {
  /** The model's main graph. */
  GraphProto graph();

  /** The model's opset of the default ONNX domain. */
  int opset();

  /** The names of the graph inputs that are not initializers, in order. */
  List<String> inputNames();

  /** The names of the graph outputs, in order. */
  List<String> outputNames();

  /** The names of the graph's initializers. */
  Set<String> initializerNames();

  /** The initializer named {@code name} as an IR tensor. */
  Tensor initializer(String name);

  /** A tensor held in a node attribute as an IR tensor; {@code what} names it in error messages. */
  Tensor tensor(TensorProto t, String what);

  /**
   * The initializer named {@code name} as the file holds it, its external data (if any) read in,
   * for an opaque region to keep verbatim.
   */
  TensorProto initializerProto(String name);

  /** The ONNX element type of the initializer named {@code name}, without reading its data. */
  int initializerType(String name);

  /** The model's ir_version, opset imports and local functions, which an opaque region keeps. */
  ModelProto header();
}
