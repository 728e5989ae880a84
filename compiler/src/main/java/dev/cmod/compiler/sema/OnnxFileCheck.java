package dev.cmod.compiler.sema;

import java.nio.file.Path;
import java.util.List;

/**
 * Validates an ONNX file the compiler is asked to read ({@code import onnx}). The compiler does not
 * depend on the ONNX backend; the application (the CLI, a test) installs the backend's checker.
 */
@FunctionalInterface
public interface OnnxFileCheck {
  /** Problems found in {@code bytes} (a model whose external data must stay inside {@code dir}); empty when valid. */
  List<String> check(byte[] bytes, Path dir);

  /** The checker in use; by default only the file itself is checked. */
  final class Installed {
    private static volatile OnnxFileCheck current = (bytes, dir) -> List.of();

    private Installed() {}

    public static void set(OnnxFileCheck check) {
      current = check;
    }

    static OnnxFileCheck get() {
      return current;
    }
  }
}
