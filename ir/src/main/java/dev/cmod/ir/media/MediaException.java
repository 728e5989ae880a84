package dev.cmod.ir.media;

/**
 * A media file or a preprocessing step that cannot be honoured: an undecodable image, a WAV file in
 * an encoding cmod does not decode, a rate that cannot be resampled to, a size past the bounds.
 * Unchecked, because the callers ({@code cmod run}, the embedding API) turn it into one diagnostic
 * at the input it concerns rather than handling it step by step; {@link #getMessage()} says what is
 * wrong and {@link #help()} what the user can do, both written for users, never a stack trace.
 */
public final class MediaException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String help;

  /** A refusal saying {@code message}, with {@code help} on what to do instead. */
  public MediaException(String message, String help) {
    super(message);
    this.help = help;
  }

  /** The same, keeping the decoder's failure as the cause (for logs, not for users). */
  public MediaException(String message, String help, Throwable cause) {
    super(message, cause);
    this.help = help;
  }

  /** What the user can do about it. */
  public String help() {
    return help;
  }
}
