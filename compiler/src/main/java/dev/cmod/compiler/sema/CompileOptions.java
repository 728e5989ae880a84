package dev.cmod.compiler.sema;

import dev.cmod.ir.tensor.Tensor;
import java.util.Map;

/**
 * Options that change what the elaborator builds.
 *
 * @param seed seed of the random initializers
 * @param weights parameter values by path (from --weights), or empty
 * @param weightsName the weights file's name, for messages
 */
public record CompileOptions(long seed, Map<String, Tensor> weights, String weightsName) {
  public static CompileOptions defaults() {
    return new CompileOptions(0, Map.of(), null);
  }
}
