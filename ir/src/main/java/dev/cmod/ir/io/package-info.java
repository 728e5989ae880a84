/**
 * Reading and writing tensors: NumPy {@code .npy} files ({@link dev.cmod.ir.io.Npy}) and
 * safetensors files ({@link dev.cmod.ir.io.Safetensors}). Readers validate every header field
 * before allocating anything and report problems as {@link dev.cmod.ir.io.TensorFileException};
 * writers are deterministic and replace the target atomically.
 */
package dev.cmod.ir.io;
