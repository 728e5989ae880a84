package dev.cmod.compiler.sema;

import dev.cmod.ir.graph.ImportedModule;
import java.nio.file.Path;
import java.util.List;

/**
 * Validates an ONNX file the compiler is asked to read ({@code import onnx}). The compiler does not
 * depend on the ONNX backend; the application (the CLI, a test) installs the backend's checker and
 * importer.
 */
@FunctionalInterface
public interface OnnxFileCheck {
  /**
   * Problems found in {@code bytes} (a model whose external data must stay inside {@code dir});
   * empty when valid.
   */
  List<String> check(byte[] bytes, Path dir);

  /** Turns a valid ONNX model into a module cmod programs can apply. */
  @FunctionalInterface
  interface Importer {
    /**
     * @throws ImportedModule.ImportException when the model cannot be imported (message for the
     *     user)
     */
    ImportedModule load(byte[] bytes, Path dir);
  }

  /**
   * The checker and importer in use; by default only the file itself is checked and import is
   * refused.
   */
  final class Installed {
    private static volatile OnnxFileCheck current = (bytes, dir) -> List.of();
    private static volatile Importer importer;

    private Installed() {}

    public static void set(OnnxFileCheck check) {
      current = check;
    }

    public static void setImporter(Importer i) {
      importer = i;
    }

    static OnnxFileCheck get() {
      return current;
    }

    static Importer importer() {
      return importer;
    }
  }
}
