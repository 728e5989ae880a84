/**
 * The lowering of IR graphs to ONNX (opset {@value dev.cmod.onnx.OnnxVersions#OPSET}). {@link
 * dev.cmod.onnx.emit.GraphEmitter} walks a graph and fixes its interface names; {@link
 * dev.cmod.onnx.emit.LoweringTable} finds the lowering of each operator, registered by its family
 * (elementwise, shape, reduction, normalization, attention, window, indexing), and a test proves
 * the table complete; one {@code LoweringContext} owns the ONNX graph under construction and is the
 * only place ONNX nodes, names and helper constants are made.
 *
 * <p>Adding an operator's lowering is one entry in its family's {@code register} method.
 */
package dev.cmod.onnx.emit;
