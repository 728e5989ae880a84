/**
 * The ONNX backend: {@link dev.cmod.onnx.OnnxEmitter} lowers an IR graph to a serialized ONNX model
 * (opset and IR version in {@link dev.cmod.onnx.OnnxVersions}), {@link dev.cmod.onnx.OnnxRunner}
 * runs a model on ONNX Runtime and {@link dev.cmod.onnx.OnnxChecks} validates untrusted model files
 * before they are loaded.
 *
 * <p>Internally one {@link dev.cmod.onnx.LoweringContext} owns the ONNX graph under construction
 * and {@link dev.cmod.onnx.Lowerings} holds one lowering per IR operator.
 */
package dev.cmod.onnx;
