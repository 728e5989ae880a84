package dev.cmod.cli.data;

/**
 * Data that does not fit what the model declares: a text file, label file or character list that
 * cannot be read or is malformed, a label or character that is not in its file, a vocabulary whose
 * size differs from the declared one, an output tensor of the wrong shape for its decoder. It
 * carries no location: the caller knows which declaration the data belongs to and reports the
 * message and the {@link #help()} there, as a located diagnostic.
 */
public final class DataException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String help;

  /** A problem ({@code message}) and what the user can do about it ({@code help}, may be null). */
  public DataException(String message, String help) {
    super(message);
    this.help = help;
  }

  /** {@link #DataException(String, String)} keeping the I/O or library failure as the cause. */
  public DataException(String message, String help, Throwable cause) {
    super(message, cause);
    this.help = help;
  }

  /** What to do about it, one sentence; null when the message says it all. */
  public String help() {
    return help;
  }
}
