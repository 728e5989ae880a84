/**
 * One definition per IR op, so that adding an op or changing a default happens in one place: the
 * operands, the typed attributes with their defaults ({@link dev.cmod.ir.op.AttrSpec}), the shape
 * and dtype inference and the cost estimate, grouped by family (one class each: elementwise, shape,
 * reduction, normalization, attention, window, indexing, routing, leaves). {@link
 * dev.cmod.ir.op.OpDefs#of} is the table keyed by {@link dev.cmod.ir.graph.Op}; the interpreter's
 * kernels, the ONNX lowerings and the compiler's builtin table are keyed by the same enum.
 */
package dev.cmod.ir.op;
