package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.sema.DataCodec;
import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The host side of a model's declared codecs for programs that embed cmod (the Java API): the same
 * decoding, resizing, resampling, tokenizing and output decoding {@code cmod run} does, given the
 * compilation's {@link ModelFacts} and its source file (codec files are relative to it). A value is
 * what {@code --input NAME=VALUE} takes: a file, folder or pattern for image and WAV inputs, text
 * (or {@code @file.txt}) for text inputs, a label for class inputs; several values of one text or
 * label input are a batch.
 */
public final class HostCodecs {
  private HostCodecs() {}

  /** Data that does not decode the way its port declares; the message names the port and why. */
  public static final class DataException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String code;

    DataException(String code, String message) {
      super(message);
      this.code = code;
    }

    /** The diagnostic code ({@code CM0701} and the like), as {@code cmod run} reports it. */
    public String code() {
      return code;
    }
  }

  /** An output decoded: the short forms {@code cmod run} prints and the files it writes. */
  public record Decoded(String kind, List<String> lines, Map<String, byte[]> files) {}

  /**
   * The input tensors for {@code values} by input name (inputs a text codec fills, such as its
   * attention mask, included); inputs without a codec take no values here.
   *
   * @throws DataException for a value that does not decode, or an input without a codec
   */
  public static Map<String, Tensor> inputs(
      ModelFacts facts, Path source, Map<String, List<String>> values) {
    try {
      RunCodecs codecs = RunCodecs.of(facts, source);
      Map<String, DType> dtypes = new LinkedHashMap<>();
      Map<String, long[]> shapes = new LinkedHashMap<>();
      for (ModelFacts.Port p : facts.inputs()) {
        dtypes.put(p.name(), p.type().dtype());
        long[] s = new long[p.type().rank()];
        for (int i = 0; i < s.length; i++) {
          Dim d = p.type().dim(i);
          s[i] = d.isKnown() ? d.value() : -1;
        }
        shapes.put(p.name(), s);
      }
      Map<String, Tensor> out = new LinkedHashMap<>();
      for (Map.Entry<String, List<String>> e : values.entrySet()) {
        DataCodec c = codecs.inputs().get(e.getKey());
        if (c == null) {
          throw new UserError(
              DiagnosticCode.INPUT_MISMATCH, "input '" + e.getKey() + "' declares no codec");
        }
        if (CodecText.isText(c)) {
          out.putAll(CodecText.read(e.getKey(), e.getValue(), c, codecs, dtypes));
        } else {
          if (e.getValue().size() != 1) {
            throw new UserError(
                DiagnosticCode.INPUT_MISMATCH,
                "input '" + e.getKey() + "' takes one file, folder or pattern");
          }
          MediaInputs.Declared d =
              new MediaInputs.Declared(shapes.get(e.getKey()), dtypes.get(e.getKey()));
          out.put(e.getKey(), MediaInputs.read(e.getKey(), e.getValue().get(0), d, c));
        }
      }
      return out;
    } catch (UserError u) {
      throw new DataException(u.code.id(), u.getMessage());
    }
  }

  /**
   * The decoded forms of the outputs that declare a codec ({@code to labels(...)}, {@code to
   * ctc(...)}...), by output name; file names are the output's name with the codec's extension.
   *
   * @throws DataException for an output that does not decode
   */
  public static Map<String, Decoded> outputs(
      ModelFacts facts, Path source, Map<String, Tensor> results) {
    try {
      RunCodecs codecs = RunCodecs.of(facts, source);
      Map<String, String> names = OutputNames.fileNames(results.keySet());
      Map<String, Decoded> out = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : results.entrySet()) {
        DataCodec c = codecs.outputs().get(e.getKey());
        if (c != null) {
          String stem = names.get(e.getKey()).replaceAll("\\.npy$", "");
          CodecOutputs.Decoded d = CodecOutputs.decode(e.getKey(), stem, e.getValue(), c, codecs);
          out.put(e.getKey(), new Decoded(c.kind(), d.lines(), d.files()));
        }
      }
      return out;
    } catch (UserError u) {
      throw new DataException(u.code.id(), u.getMessage());
    }
  }
}
