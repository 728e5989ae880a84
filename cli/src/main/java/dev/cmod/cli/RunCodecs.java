package dev.cmod.cli;

import ai.onnx.proto.OnnxMl;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.sema.DataCodec;
import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.ir.io.SafeFiles;
import dev.cmod.onnx.TensorProtos;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The codecs of the model {@code cmod run} is running, by port: from the compilation of a {@code
 * .cmod} file (its files relative to the source), or read back from an {@code .onnx} file's
 * metadata (its files looked up beside the {@code .onnx} and checked against the recorded hash, so
 * a tokenizer or label list that changed since compilation is refused, not silently used).
 */
record RunCodecs(
    Map<String, DataCodec> inputs, Map<String, DataCodec> outputs, Path dir, boolean artifact) {
  static final RunCodecs NONE = new RunCodecs(Map.of(), Map.of(), Path.of("."), false);

  static RunCodecs of(ModelFacts facts, Path source) {
    Map<String, DataCodec> in = new LinkedHashMap<>();
    Map<String, DataCodec> out = new LinkedHashMap<>();
    for (DataCodec c : facts.codecs()) {
      (c.input() ? in : out).put(c.port(), c);
    }
    return new RunCodecs(in, out, folder(source), false);
  }

  static RunCodecs of(byte[] onnx, Path file) {
    Map<String, DataCodec> in = new LinkedHashMap<>();
    Map<String, DataCodec> out = new LinkedHashMap<>();
    OnnxMl.ModelProto m;
    try {
      m = TensorProtos.parseModel(onnx);
    } catch (IOException | RuntimeException e) {
      return NONE;
    }
    for (OnnxMl.StringStringEntryProto p : m.getMetadataPropsList()) {
      try {
        DataCodec c = DataCodec.fromMetadata(p.getKey(), p.getValue());
        if (c != null) {
          (c.input() ? in : out).put(c.port(), c);
        }
      } catch (IllegalArgumentException e) {
        throw new UserError(DiagnosticCode.ONNX_FILE, file + ": " + e.getMessage());
      }
    }
    return new RunCodecs(in, out, folder(file), true);
  }

  private static Path folder(Path f) {
    Path p = f.toAbsolutePath().getParent();
    return p == null ? Path.of("").toAbsolutePath() : p;
  }

  /**
   * The file codec {@code c} names, resolved; for an artifact, checked to be the file it was
   * compiled with.
   */
  Path file(DataCodec c) {
    String who = (c.input() ? "input '" : "output '") + c.port() + "'";
    Path p;
    try {
      p = dir.resolve(c.file());
    } catch (InvalidPathException e) {
      throw new UserError(DiagnosticCode.DATA, who + ": '" + c.file() + "' is not a valid path");
    }
    if (artifact && c.fileSha256() != null) {
      byte[] b;
      try {
        b = SafeFiles.readAll(p, SafeFiles.Policy.MODEL, 64L << 20);
      } catch (IOException e) {
        throw new UserError(
            DiagnosticCode.DATA,
            who + " needs " + c.file() + " beside the model (" + p + "): " + SafeFiles.describe(e));
      }
      if (!DataCodec.sha256(b).equals(c.fileSha256())) {
        throw new UserError(
            DiagnosticCode.DATA,
            who + ": " + p + " is not the file the model was compiled with (its SHA-256 differs)");
      }
    }
    return p;
  }
}
