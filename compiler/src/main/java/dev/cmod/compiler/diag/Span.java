package dev.cmod.compiler.diag;

import dev.cmod.ir.graph.SourceLoc;

/** A half-open character range [start, end) in a source file. */
public record Span(SourceFile file, int start, int end) {
  public int line() {
    return file.lineOf(start);
  }

  public int column() {
    return file.columnOf(start);
  }

  public Span to(Span other) {
    return new Span(file, Math.min(start, other.start), Math.max(end, other.end));
  }

  public SourceLoc toLoc() {
    return new SourceLoc(file.name(), line(), column());
  }

  @Override
  public String toString() {
    return file.name() + ":" + line() + ":" + column();
  }
}
