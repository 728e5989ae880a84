package dev.cmod.onnx;

import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.graph.OnnxImportService;
import java.nio.file.Path;
import java.util.List;

/**
 * The ONNX backend's {@code import onnx}: the file checks of {@link OnnxChecks} and the importer of
 * {@link OnnxImporter}, as the one service a compilation is given in its options. Stateless, so one
 * instance serves every compilation.
 */
public final class OnnxImports implements OnnxImportService {
  /** The service; it holds no state. */
  public static final OnnxImports SERVICE = new OnnxImports();

  private OnnxImports() {}

  @Override
  public List<String> check(byte[] bytes, Path dir) {
    return OnnxChecks.validate(bytes, dir);
  }

  @Override
  public ImportedModule load(byte[] bytes, Path dir, ImportedModule.Signature signature) {
    return OnnxImporter.load(bytes, dir, signature);
  }
}
