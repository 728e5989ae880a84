/**
 * The translation of ONNX graphs into IR graphs. {@link
 * dev.cmod.onnx.importer.ImportContext#translate} walks the nodes of a checked model ({@link
 * dev.cmod.onnx.importer.ImportSource}) and hands each to its entry in {@code ImportTable}: one
 * entry per ONNX op type, registered by its family (elementwise, shape, reduction, normalization,
 * attention, window, indexing), stating the IR operators it may add. Shape computations are folded
 * at import time into IR dims. What no entry raises is carried verbatim as opaque ONNX regions
 * ({@code OpaqueRegions}), rewritten to the emitted opset where the file's differs ({@code
 * RegionRewriter}). After translation, {@code PatternRaising} raises the decomposed forms of layer
 * norm, GELU and attention that exporters write back to one IR op each, where exact.
 *
 * <p>Supporting an ONNX operator is one entry in its family's {@code register} method; a test
 * checks that every entry names a real ONNX operator and adds only operators the emitter lowers.
 * Reading model files, external data and the checks on untrusted files stay in {@link
 * dev.cmod.onnx}.
 */
package dev.cmod.onnx.importer;
