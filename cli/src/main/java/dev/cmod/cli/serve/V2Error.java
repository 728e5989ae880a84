package dev.cmod.cli.serve;

/**
 * A request the server refuses, with the HTTP status it answers and the message of its v2 error
 * body ({@code {"error": "..."}}): 400 for a malformed or mismatched request, 404 for an unknown
 * model or path, 413 for an oversize body, 503 when the queue is full or the server stops.
 */
public final class V2Error extends RuntimeException {
  public final int status;

  public V2Error(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }
}
