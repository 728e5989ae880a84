package dev.cmod.ir.graph;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@code import onnx} needs from the ONNX backend: a check of the file and its import as a
 * module. It lives in {@code ir}, beside {@link ImportedModule}, so that the compiler can ask for
 * it without depending on the backend and the backend can provide it without depending on the
 * compiler. Each compilation is handed one through its options (the {@code cmod} command and the
 * language server pass the backend's {@code dev.cmod.onnx.OnnxImports}); a compilation without one
 * refuses {@code import onnx} with a diagnostic. Implementations hold no per-compilation state and
 * may be shared by compilations running at the same time.
 */
public interface OnnxImportService {
  /**
   * Problems found in {@code bytes}, a model whose external data must stay inside {@code dir};
   * empty when the model is valid.
   */
  List<String> check(byte[] bytes, Path dir);

  /**
   * Turns a model that passed {@link #check} into a module cmod programs can apply, with the
   * signature written with the import (its input types and the values it reads; null when none was
   * written).
   *
   * @throws ImportedModule.ImportException when the model cannot be imported, or the signature does
   *     not fit it (message for the user)
   */
  ImportedModule load(byte[] bytes, Path dir, ImportedModule.Signature signature);

  /** {@link #load(byte[], Path, ImportedModule.Signature)} without a signature. */
  default ImportedModule load(byte[] bytes, Path dir) {
    return load(bytes, dir, null);
  }
}
