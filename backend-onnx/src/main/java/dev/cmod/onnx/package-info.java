/**
 * The ONNX backend: {@link dev.cmod.onnx.OnnxEmitter} lowers an IR graph to a serialized ONNX model
 * (opset and IR version in {@link dev.cmod.onnx.OnnxVersions}), {@link dev.cmod.onnx.OnnxRunner}
 * runs a model on ONNX Runtime and {@link dev.cmod.onnx.OnnxChecks} validates untrusted model files
 * before they are loaded.
 *
 * <p>The lowering itself lives in {@link dev.cmod.onnx.emit}, one family of operators per class
 * behind a table keyed by operator.
 */
package dev.cmod.onnx;
