package dev.cmod.compiler.sema;

/**
 * The sizes a model may reach while it is elaborated (parameters, nodes, instances, nesting), in
 * one place so that the parts of elaboration that enforce them agree and a reader finds them.
 */
public final class Limits {
  private Limits() {}

  /** Largest number of elements of one parameter. */
  public static final long MAX_PARAM_ELEMENTS = 1L << 28;

  /** Largest number of parameter elements of one model (1 GiB of f32). */
  public static final long MAX_TOTAL_PARAM_ELEMENTS = 1L << 28;

  /**
   * The parameter elements one model may have with this JVM's heap: at most {@link
   * #MAX_TOTAL_PARAM_ELEMENTS}, and at most one per 16 bytes of the maximum heap (a parameter's
   * value, its copy in the ONNX protobuf and the serialized file each take 4 bytes), so that
   * emitting a model that compiled cannot run out of memory.
   */
  public static long totalParamLimit() {
    return Math.min(MAX_TOTAL_PARAM_ELEMENTS, Runtime.getRuntime().maxMemory() / 16);
  }

  /** Largest number of IR nodes of one model. */
  public static final int MAX_NODES = 1 << 21;

  /**
   * Most module instances one model may create. Nested repeats multiply (repeat(4096) of
   * repeat(4096) ...), so the count is checked as instances are made, long before their nodes would
   * fill the memory.
   */
  public static final int MAX_INSTANCES = 1 << 16;

  /** Deepest nesting of module applications. */
  public static final int MAX_APPLY_DEPTH = 64;
}
