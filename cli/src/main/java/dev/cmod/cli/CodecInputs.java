package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.compiler.sema.DataCodec;
import dev.cmod.ir.media.AudioSteps;
import dev.cmod.ir.media.Clip;
import dev.cmod.ir.media.ImageSteps;
import dev.cmod.ir.media.Interpolation;
import dev.cmod.ir.media.MediaException;
import dev.cmod.ir.media.MediaFiles;
import dev.cmod.ir.media.Planes;
import dev.cmod.ir.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code cmod run --input NAME=FILE} reads for an input declared {@code from image(...)} or
 * {@code from wav(...)}: the files (one, a folder or a pattern: a batch) decoded and put through
 * the codec's host steps — colour, resize, crop, pad for images; mono, resample, fit or chunks for
 * audio — so that the tensor handed to the artifact is what its graph steps (scale, mean, std)
 * expect. Every refusal is {@code CM0701} naming the input and the file.
 */
final class CodecInputs {
  private CodecInputs() {}

  /** The input tensor for {@code files} under the image codec {@code c}; {@code shape} declared. */
  static Tensor image(String who, List<Path> files, DataCodec c, long[] shape) {
    int channels = (int) shape[1];
    List<Planes> ex = new ArrayList<>();
    for (Path f : files) {
      try {
        ex.add(imageSteps(MediaFiles.readImage(f, channels), c));
      } catch (MediaException e) {
        throw data(who, f, e);
      }
    }
    // a batch of lines of different widths (a symbolic width) is padded to the widest
    int h = ex.get(0).height();
    int w = 0;
    for (Planes p : ex) {
      w = Math.max(w, p.width());
      if (p.height() != h && shape[2] < 0) {
        throw new UserError(
            DiagnosticCode.DATA,
            who
                + ": the files decode to heights "
                + h
                + " and "
                + p.height()
                + "; one batch needs"
                + " one height (declare resize = [H, W], height = H or pad_height)");
      }
    }
    float[] pad = padValues(c, channels);
    float[] all = new float[ex.size() * channels * h * w];
    for (int i = 0; i < ex.size(); i++) {
      Planes p = ex.get(i);
      if (p.width() != w && !c.args().containsKey("pad_width") && shape[3] >= 0) {
        throw new UserError(DiagnosticCode.DATA, who + ": widths differ in one batch");
      }
      System.arraycopy(padTo(p, h, w, pad).data(), 0, all, i * channels * h * w, channels * h * w);
    }
    check(who, "height", h, shape[2]);
    check(who, "width", w, shape[3]);
    return Tensor.ofFloats(new long[] {ex.size(), channels, h, w}, all);
  }

  /** The host steps of an image codec on one decoded picture, in the documented order. */
  static Planes imageSteps(Planes p, DataCodec c) {
    if (p.channels() == 3 && "bgr".equals(c.string("order"))) {
      int n = p.height() * p.width();
      float[] d = p.data().clone();
      System.arraycopy(p.data(), 0, d, 2 * n, n);
      System.arraycopy(p.data(), 2 * n, d, 0, n);
      p = new Planes(3, p.height(), p.width(), d);
    }
    Interpolation f = Interpolation.named(c.string("interpolation"));
    Object resize = c.args().get("resize");
    if (resize instanceof List<?> hw) {
      p = ImageSteps.resize(p, ((Number) hw.get(0)).intValue(), ((Number) hw.get(1)).intValue(), f);
    } else if (resize instanceof Number s) {
      p = ImageSteps.resizeShorter(p, s.intValue(), f);
    } else if (c.args().get("height") instanceof Number h) {
      p =
          ImageSteps.resizeToHeight(
              p, h.intValue(), (int) c.integer("max_width", Integer.MAX_VALUE), f);
    }
    Object crop = c.args().get("crop");
    if (crop instanceof List<?> hw) {
      p =
          ImageSteps.centerCrop(
              p, ((Number) hw.get(0)).intValue(), ((Number) hw.get(1)).intValue());
    } else if (crop instanceof Number s) {
      p = ImageSteps.centerCrop(p, s.intValue(), s.intValue());
    }
    int ph = (int) c.integer("pad_height", p.height());
    int pw = (int) c.integer("pad_width", p.width());
    if (ph < p.height() || pw < p.width()) {
      throw new MediaException(
          "the picture is "
              + p.width()
              + " × "
              + p.height()
              + " after resizing, larger than the"
              + " padded size "
              + pw
              + " × "
              + ph,
          "resize it to fit (max_width = " + pw + ")");
    }
    return padTo(p, ph, pw, padValues(c, p.channels()));
  }

  /**
   * The value to pad each channel with on the host so that, after the graph's scale, mean and std,
   * it is the declared {@code pad_value}.
   */
  static float[] padValues(DataCodec c, int channels) {
    double v = c.number("pad_value", 0);
    double scale = c.number("scale", 1);
    double[] mean = c.numbers("mean");
    double[] std = c.numbers("std");
    float[] r = new float[channels];
    for (int i = 0; i < channels; i++) {
      double m = mean == null ? 0 : mean[mean.length == 1 ? 0 : i];
      double s = std == null ? 1 : std[std.length == 1 ? 0 : i];
      r[i] = (float) ((v * s + m) / scale);
    }
    return r;
  }

  private static Planes padTo(Planes p, int h, int w, float[] value) {
    if (p.height() == h && p.width() == w) {
      return p;
    }
    float[] d = new float[p.channels() * h * w];
    for (int ch = 0; ch < p.channels(); ch++) {
      java.util.Arrays.fill(d, ch * h * w, (ch + 1) * h * w, value[ch]);
      for (int y = 0; y < p.height(); y++) {
        System.arraycopy(
            p.data(), (ch * p.height() + y) * p.width(), d, (ch * h + y) * w, p.width());
      }
    }
    return new Planes(p.channels(), h, w, d);
  }

  /**
   * The input tensor for {@code files} under the wav codec {@code c}: {@code [N, T]} (mono) or
   * {@code [N, C, T]}, N the files, or the chunks of all files in order with {@code chunk = true}.
   */
  static Tensor audio(String who, List<Path> files, DataCodec c, long[] shape) {
    boolean mono = c.flag("mono");
    int rate = (int) c.integer("rate", 16000);
    long len = c.integer("length", shape[shape.length - 1]);
    int channels = mono ? 1 : (int) shape[1];
    List<float[]> ex = new ArrayList<>();
    int per = -1;
    for (Path f : files) {
      try {
        Clip clip = MediaFiles.readWav(f);
        if (mono) {
          clip = AudioSteps.mono(clip);
        } else if (clip.channels() != channels) {
          throw new MediaException(
              "the clip has " + clip.channels() + " channels, the input takes " + channels,
              "declare Audio[T] to mix it to mono");
        }
        clip = AudioSteps.resample(clip, rate);
        if (c.flag("chunk")) {
          AudioSteps.Chunks k = AudioSteps.chunks(clip, (int) len, (int) c.integer("hop", len));
          int n = k.channels() * k.length();
          for (int i = 0; i < k.count(); i++) {
            ex.add(java.util.Arrays.copyOfRange(k.data(), i * n, (i + 1) * n));
          }
          per = n;
          continue;
        }
        clip = fit(clip, c.string("fit"), len);
        float[] all = new float[clip.channels() * clip.frames()];
        for (int ch = 0; ch < clip.channels(); ch++) {
          System.arraycopy(clip.samples()[ch], 0, all, ch * clip.frames(), clip.frames());
        }
        if (per >= 0 && per != all.length) {
          throw new MediaException(
              "the clips of one batch have different lengths",
              "declare the length (Audio[16000]) to pad or trim them");
        }
        per = all.length;
        ex.add(all);
      } catch (MediaException e) {
        throw data(who, f, e);
      }
    }
    float[] all = new float[ex.size() * per];
    for (int i = 0; i < ex.size(); i++) {
      System.arraycopy(ex.get(i), 0, all, i * per, per);
    }
    int frames = per / channels;
    return Tensor.ofFloats(
        shape.length == 2
            ? new long[] {ex.size(), frames}
            : new long[] {ex.size(), channels, frames},
        all);
  }

  private static Clip fit(Clip clip, String fit, long len) {
    if (len < 0) {
      return clip;
    }
    int n = clip.frames();
    String got = n + " samples at " + clip.rate() + " Hz";
    switch (fit) {
      case "exact" -> {
        if (n != len) {
          throw new MediaException(
              "the clip has " + got + ", the input takes exactly " + len,
              "declare fit = \"pad_or_trim\" to pad or cut it, or chunk = true to cut it into"
                  + " chunks");
        }
      }
      case "pad" -> {
        if (n > len) {
          throw new MediaException(
              "the clip has " + got + ", more than the " + len + " the input takes",
              "declare fit = \"pad_or_trim\" to cut it, or chunk = true");
        }
      }
      case "trim" -> {
        if (n < len) {
          throw new MediaException(
              "the clip has " + got + ", fewer than the " + len + " the input takes",
              "declare fit = \"pad_or_trim\" to pad it with silence");
        }
      }
      default -> {}
    }
    return AudioSteps.padOrTrim(clip, (int) len);
  }

  private static void check(String who, String what, long got, long declared) {
    if (declared >= 0 && got != declared) {
      throw new UserError(
          DiagnosticCode.DATA,
          who + ": the steps give " + what + " " + got + ", the input takes " + declared);
    }
  }

  static UserError data(String who, Path f, MediaException e) {
    String name = f.getFileName() == null ? f.toString() : f.getFileName().toString();
    // the decoders name the file themselves; the steps after decoding do not
    boolean named = e.getMessage() != null && e.getMessage().startsWith(name + ":");
    return new UserError(
        DiagnosticCode.DATA,
        who
            + ": "
            + (named ? "" : Excerpt.of(name, 200) + ": ")
            + e.getMessage()
            + (e.help() != null ? " (" + e.help() + ")" : ""));
  }
}
