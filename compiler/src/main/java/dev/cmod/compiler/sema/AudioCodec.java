package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.Codec;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;
import java.util.Map;

/**
 * {@code from wav(rate = R, ...)}: checks the steps against the declared {@code Audio[T]} (mono) or
 * {@code Audio[C, T]}. Every audio step runs on the host: decoding, mixing, resampling, fitting the
 * length and cutting chunks all depend on the file.
 */
final class AudioCodec {
  private AudioCodec() {}

  /** The highest sample rate accepted (ten times the usual 48 kHz is far beyond real audio). */
  static final long MAX_RATE = 768_000;

  static void check(
      ElabContext el, Codec c, TensorType t, Map<String, Object> args, List<String> host) {
    if (t.rank() != 2 && t.rank() != 3) {
      el.fail(
          DiagnosticCode.CODEC,
          c.kind().span(),
          "wav(...) needs an input f32[batch, T] or f32[batch, C, T], got " + t,
          null);
    }
    long rate = (Long) args.get("rate");
    checkRate(el, c, rate);
    boolean mono = args.get("mono") instanceof Boolean b ? b : t.rank() == 2;
    args.put("mono", mono);
    if (!mono && t.rank() == 2) {
      el.fail(
          DiagnosticCode.CODEC,
          Codecs.argSpan(c, "mono"),
          "mono = false keeps the channels, but the input has no channel axis",
          "declare Audio[C, T] to keep channels");
    }
    Dim declared = t.dim(t.rank() - 1);
    // a symbolic length fits its where upper bound (`Audio[n] where n <= 512`)
    long bound = declared.isKnown() ? declared.value() : Codecs.upperBound(el, declared);
    if (!declared.isKnown() && bound > 0) {
      args.put("length", bound);
    }
    Dim len = bound > 0 ? Dim.of(bound) : declared;
    String fit = (String) args.get("fit");
    boolean chunk = (Boolean) args.get("chunk");
    if (!len.isKnown() && (chunk || !fit.equals("pad_or_trim") && !fit.equals("exact"))) {
      el.fail(
          DiagnosticCode.CODEC,
          c.span(),
          (chunk ? "chunk" : "fit = \"" + fit + "\"")
              + " needs a fixed length, but the input's is "
              + len,
          "declare the length, e.g. Audio[16000], or bound it: where " + len + " <= 16000");
    }
    if (args.get("hop") instanceof Long hop) {
      if (!chunk) {
        el.fail(
            DiagnosticCode.CODEC, Codecs.argSpan(c, "hop"), "hop applies with chunk = true", null);
      }
      if (hop <= 0 || hop > len.value()) {
        el.fail(
            DiagnosticCode.CODEC,
            Codecs.argSpan(c, "hop"),
            "hop = " + hop + " must be between 1 and the chunk length " + len.value(),
            null);
      }
    }
    host.add("decode WAV (PCM 8/16/24/32-bit or float) to floats in [-1, 1]");
    host.add(mono ? "mix to mono" : "keep " + t.dim(1) + " channels");
    host.add("resample to " + rate + " Hz");
    if (chunk) {
      host.add(
          "cut into chunks of "
              + len
              + " samples, hop "
              + args.getOrDefault("hop", len.value())
              + " (the last padded with zeros); each chunk is one example");
    } else if (len.isKnown()) {
      host.add(
          switch (fit) {
            case "pad" -> "pad with zeros to " + len + " samples (longer is an error)";
            case "trim" -> "trim to " + len + " samples (shorter is an error)";
            case "exact" -> "must have " + len + " samples";
            default -> "pad with zeros or trim to " + len + " samples";
          });
    }
  }

  static void checkRate(ElabContext el, Codec c, long rate) {
    if (rate <= 0 || rate > MAX_RATE) {
      el.fail(
          DiagnosticCode.CODEC,
          Codecs.argSpan(c, "rate"),
          "rate = " + rate + " Hz is not a sample rate (1 to " + MAX_RATE + ")",
          "the model's sample rate, e.g. 16000");
    }
  }
}
