package dev.cmod.ir.graph;

/** Where in a .cmod file a node came from (1-based line and column). */
public record SourceLoc(String file, int line, int column) {
  @Override
  public String toString() {
    return file + ":" + line + ":" + column;
  }
}
