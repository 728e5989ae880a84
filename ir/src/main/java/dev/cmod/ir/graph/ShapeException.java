package dev.cmod.ir.graph;

/** A shape or type rule of an operator was broken; the message is written for the user. */
public final class ShapeException extends RuntimeException {
  public ShapeException(String message) {
    super(message);
  }
}
