/**
 * The Java API of cmod, for programs that embed the compiler rather than run the {@code cmod}
 * command: {@link dev.cmod.api.Cmod} compiles a file or a string with chosen options (the ONNX
 * importer for {@code import onnx} passed in, never set globally), {@link
 * dev.cmod.api.CompiledModel} answers what the model declares and costs, gives its ONNX artifact
 * and runs it on ONNX Runtime ({@link dev.cmod.api.Session}). See docs/embedding.md.
 */
package dev.cmod.api;
