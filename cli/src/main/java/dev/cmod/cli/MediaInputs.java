package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.compiler.sema.DataCodec;
import dev.cmod.ir.io.ImageFiles;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.TensorFileException;
import dev.cmod.ir.io.WavFiles;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What {@code cmod run --input NAME=VALUE} reads: a {@code .npy} tensor as it is, or real files
 * decoded the way the input's type says — an image (PNG, JPEG, BMP, GIF) for an input {@code
 * f32[batch, C, H, W]} as channels-first floats in [0, 1], a WAV file for {@code f32[batch, T]}
 * (mixed to mono) or {@code f32[batch, C, T]} as floats in [-1, 1]. A pattern ({@code
 * photos/*.png}) or a folder gives a batch, one example per file in name order. A file's size must
 * fit the declared one (a symbolic size takes it) unless the input declares a codec, whose steps
 * {@link CodecInputs} applies; text for an integer input needs a declared tokenizer ({@link
 * CodecText}), so without one it is refused saying how to declare it.
 */
final class MediaInputs {
  private MediaInputs() {}

  /** An input as the model declares it: its shape (-1 for a symbolic size) and element type. */
  record Declared(long[] shape, DType dtype) {}

  /** The tensor for {@code --input name=value}, given the input's declaration (null if unknown). */
  static Tensor read(String name, String value, Declared d) {
    return read(name, value, d, null);
  }

  /**
   * The same for an input with a declared codec ({@code from image(...)}, {@code from wav(...)}):
   * image and WAV files go through the codec's host steps ({@link CodecInputs}); a {@code .npy}
   * file is taken as the already decoded tensor.
   */
  static Tensor read(String name, String value, Declared d, DataCodec codec) {
    String who = "input '" + Excerpt.of(name, 100) + "'";
    List<Path> files = files(who, value);
    if (codec != null
        && d != null
        && !files.isEmpty()
        && (ImageFiles.isImage(files.get(0)) || WavFiles.isWav(files.get(0)))) {
      boolean image = codec.kind().equals("image");
      if (image != ImageFiles.isImage(files.get(0))) {
        throw new UserError(
            DiagnosticCode.DATA,
            who + " is read from " + codec.kind() + "(...), not from " + files.get(0));
      }
      return image
          ? CodecInputs.image(who, files, codec, d.shape())
          : CodecInputs.audio(who, files, codec, d.shape());
    }
    if (files.isEmpty()) {
      throw new UserError(
          DiagnosticCode.INPUT_FILE, who + ": no file matches " + Excerpt.of(value, 200));
    }
    boolean npy =
        files.size() == 1 && !ImageFiles.isImage(files.get(0)) && !WavFiles.isWav(files.get(0));
    if (npy) {
      Path p = files.get(0);
      if (!Files.exists(p) && d != null && !d.dtype().isFloat() && !value.endsWith(".npy")) {
        throw new UserError(
            DiagnosticCode.INPUT_FILE,
            who
                + " takes token ids ("
                + d.dtype()
                + "), and '"
                + Excerpt.of(value, 60)
                + "' is not a file: text needs a tokenizer, declared with the input (input "
                + Excerpt.of(name, 40)
                + ": Text[seq] vocab N from tokenizer(\"tokenizer.json\") where seq <= 128),"
                + " or pass the ids as a .npy file");
      }
      try {
        return Npy.read(p);
      } catch (TensorFileException e) {
        throw new UserError(DiagnosticCode.INPUT_FILE, who + ": " + e.getMessage());
      }
    }
    if (d == null) {
      throw new UserError(
          DiagnosticCode.INPUT_MISMATCH, "the model has no " + who + " to decode a file for");
    }
    List<Tensor> examples = new ArrayList<>();
    for (Path p : files) {
      try {
        examples.add(decode(p, d));
      } catch (TensorFileException e) {
        throw new UserError(DiagnosticCode.INPUT_FILE, who + ": " + p + ": " + e.getMessage());
      }
    }
    return stack(who, examples, d, batched(d, files.get(0)));
  }

  /** The files a value names: one path, every file of a folder, or those a pattern matches. */
  static List<Path> files(String who, String value) {
    Path p;
    try {
      p = Path.of(value);
    } catch (InvalidPathException e) {
      throw new UserError(DiagnosticCode.INPUT_FILE, who + ": not a valid path");
    }
    String name = p.getFileName() == null ? "" : p.getFileName().toString();
    boolean pattern = name.contains("*") || name.contains("?");
    if (!pattern && !Files.isDirectory(p)) {
      return List.of(p);
    }
    Path dir = pattern ? (p.getParent() == null ? Path.of(".") : p.getParent()) : p;
    String glob = pattern ? name : "*";
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, glob)) {
      for (Path f : s) {
        if (Files.isRegularFile(f) && (ImageFiles.isImage(f) || WavFiles.isWav(f))) {
          out.add(f);
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new UserError(
          DiagnosticCode.INPUT_FILE, who + ": cannot list " + dir + ": " + e.getMessage());
    }
    out.sort(null);
    return out;
  }

  /** One example's tensor (without the batch axis) from a file. */
  private static Tensor decode(Path p, Declared d) {
    long[] s = d.shape();
    int rank = s.length - (batched(d, p) ? 1 : 0);
    if (d.dtype() != DType.F32) {
      throw new TensorFileException(
          "the input takes " + d.dtype() + ", but a decoded file gives f32 values");
    }
    if (ImageFiles.isImage(p)) {
      if (rank != 3) {
        throw new TensorFileException(
            "an image feeds an input of shape [batch, C, H, W] (or [C, H, W]); this one is "
                + shape(s));
      }
      int c = (int) s[s.length - 3];
      ImageFiles.Picture pic = ImageFiles.read(p);
      Tensor t = ImageFiles.toTensor(pic, c < 0 ? 3 : c);
      fit("the image is " + pic.width() + " × " + pic.height() + " pixels", t, s);
      return t;
    }
    WavFiles.Audio a = WavFiles.read(p);
    if (rank == 1) {
      Tensor t = Tensor.ofFloats(new long[] {a.frames()}, a.mono());
      fit("the clip has " + a.frames() + " samples (" + a.sampleRate() + " Hz)", t, s);
      return t;
    }
    if (rank != 2) {
      throw new TensorFileException(
          "a WAV file feeds an input of shape [batch, T] or [batch, C, T]; this one is "
              + shape(s));
    }
    long c = s[s.length - 2];
    float[][] ch = c == 1 ? new float[][] {a.mono()} : a.samples();
    if (c > 0 && ch.length != c) {
      throw new TensorFileException(
          "the clip has " + a.channels() + " channels, the input takes " + c);
    }
    float[] all = new float[ch.length * a.frames()];
    for (int i = 0; i < ch.length; i++) {
      System.arraycopy(ch[i], 0, all, i * a.frames(), a.frames());
    }
    Tensor t = Tensor.ofFloats(new long[] {ch.length, a.frames()}, all);
    fit("the clip has " + a.frames() + " samples (" + a.sampleRate() + " Hz)", t, s);
    return t;
  }

  /** A decoded example must have the declared fixed sizes (symbolic ones take its own). */
  private static void fit(String what, Tensor t, long[] declared) {
    long[] got = t.shape();
    for (int i = 0; i < got.length; i++) {
      long want = declared[declared.length - got.length + i];
      if (want >= 0 && want != got[i]) {
        throw new TensorFileException(
            what
                + ", the input takes "
                + shape(Arrays.copyOfRange(declared, declared.length - got.length, declared.length))
                + " per example ("
                + shape(got)
                + " given); declare how to fit it with the input: from image(resize = ..., crop"
                + " = ...) for pictures, from wav(rate = ..., chunk = true) for clips");
      }
    }
  }

  /**
   * Whether the declared shape has a leading batch axis the files are stacked on: {@code [batch, C,
   * H, W]} for images, {@code [batch, T]} and {@code [batch, C, T]} for audio (a fixed first size
   * is a batch of that many files).
   */
  private static boolean batched(Declared d, Path example) {
    int r = d.shape().length;
    return ImageFiles.isImage(example) ? r == 4 : r >= 2;
  }

  private static Tensor stack(String who, List<Tensor> ex, Declared d, boolean batched) {
    if (!batched) {
      if (ex.size() != 1) {
        throw new UserError(
            DiagnosticCode.INPUT_MISMATCH,
            who + " has no batch axis (" + shape(d.shape()) + "): give one file, not " + ex.size());
      }
      return ex.get(0);
    }
    long[] one = ex.get(0).shape();
    for (Tensor t : ex) {
      if (!Arrays.equals(one, t.shape())) {
        throw new UserError(
            DiagnosticCode.INPUT_MISMATCH,
            who
                + ": the files of one batch must decode to one shape, got "
                + shape(one)
                + " and "
                + shape(t.shape()));
      }
    }
    int per = ex.get(0).size();
    float[] all = new float[per * ex.size()];
    for (int i = 0; i < ex.size(); i++) {
      System.arraycopy(ex.get(i).floats(), 0, all, i * per, per);
    }
    long[] shape = new long[one.length + 1];
    shape[0] = ex.size();
    System.arraycopy(one, 0, shape, 1, one.length);
    return Tensor.ofFloats(shape, all);
  }

  private static String shape(long[] s) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < s.length; i++) {
      b.append(i > 0 ? ", " : "").append(s[i] < 0 ? "?" : Long.toString(s[i]));
    }
    return b.append(']').toString();
  }
}
