package dev.cmod.cli;

import dev.cmod.cli.data.ClassScores;
import dev.cmod.cli.data.CtcDecoder;
import dev.cmod.cli.data.DataException;
import dev.cmod.cli.data.LabelFile;
import dev.cmod.cli.data.OutputFiles;
import dev.cmod.cli.data.PngOutput;
import dev.cmod.cli.data.TextTokenizer;
import dev.cmod.cli.data.WavOutput;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.compiler.sema.DataCodec;
import dev.cmod.ir.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Outputs declared with a codec, decoded after a run: class scores to top-k labels (JSON), CTC
 * scores and token ids to text, audio to WAV and images to PNG files. {@code cmod run} prints the
 * short forms (labels, texts) and writes every decoded file beside the {@code .npy} files in {@code
 * --output-dir}; a file name is the output's file stem with the codec's extension ({@code _0},
 * {@code _1}... per example for WAV and PNG of a batch).
 */
final class CodecOutputs {
  private CodecOutputs() {}

  /** What one output decodes to: lines to print, files to write (name to bytes). */
  record Decoded(List<String> lines, Map<String, byte[]> files) {}

  static Decoded decode(String name, String stem, Tensor t, DataCodec c, RunCodecs codecs) {
    String who = "output '" + Excerpt.of(name, 100) + "'";
    List<String> lines = new ArrayList<>();
    Map<String, byte[]> files = new LinkedHashMap<>();
    try {
      switch (c.kind()) {
        case "labels" -> {
          LabelFile labels = LabelFile.read(codecs.file(c));
          boolean batch = t.shape().length == 2;
          List<List<ClassScores.Ranked>> r =
              ClassScores.topK(t, labels, (int) c.integer("top", 5), ClassScores.Scale.SOFTMAX);
          for (List<ClassScores.Ranked> ex : r) {
            StringBuilder b = new StringBuilder();
            for (ClassScores.Ranked k : ex) {
              b.append(b.length() == 0 ? "" : ", ")
                  .append(k.label())
                  .append(String.format(java.util.Locale.ROOT, " %.4f", k.score()));
            }
            lines.add(b.toString());
          }
          files.put(stem + ".json", ClassScores.toJson(r, batch));
        }
        case "ctc" -> {
          CtcDecoder d =
              CtcDecoder.read(
                  codecs.file(c),
                  c.integer("blank", 0) == 0 ? CtcDecoder.Blank.FIRST : CtcDecoder.Blank.LAST,
                  c.flag("space"));
          List<CtcDecoder.Result> r = d.decode(t);
          for (CtcDecoder.Result x : r) {
            lines.add(
                quote(x.text())
                    + String.format(java.util.Locale.ROOT, " (confidence %.3f)", x.confidence()));
          }
          files.put(stem + ".txt", CtcDecoder.toText(r));
        }
        case "tokenizer", "chars" -> {
          try (TextTokenizer tok =
              c.kind().equals("tokenizer")
                  ? TextTokenizer.huggingFace(codecs.file(c))
                  : TextTokenizer.characters(codecs.file(c), null, null)) {
            List<String> texts = tok.decode(t);
            StringBuilder all = new StringBuilder();
            for (String s : texts) {
              lines.add(quote(s));
              all.append(s).append('\n');
            }
            files.put(stem + ".txt", all.toString().getBytes(StandardCharsets.UTF_8));
          }
        }
        case "wav" -> {
          int exampleRank = t.shape().length >= 3 ? 2 : 1;
          List<Tensor> ex = OutputFiles.examples(t, exampleRank, who);
          for (int i = 0; i < ex.size(); i++) {
            files.put(
                stem + (ex.size() > 1 ? "_" + i : "") + ".wav",
                WavOutput.encode(
                    ex.get(i), (int) c.integer("rate", 16000), WavOutput.Format.PCM16));
          }
          lines.add(ex.size() + " WAV file(s) at " + c.integer("rate", 16000) + " Hz");
        }
        default -> { // png
          List<Tensor> ex = OutputFiles.examples(t, 3, who);
          for (int i = 0; i < ex.size(); i++) {
            files.put(
                stem + (ex.size() > 1 ? "_" + i : "") + ".png",
                PngOutput.encode(ex.get(i), c.number("scale", 1)));
          }
          lines.add(ex.size() + " PNG file(s)");
        }
      }
    } catch (DataException e) {
      throw CodecText.data(who, e);
    }
    return new Decoded(lines, files);
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
