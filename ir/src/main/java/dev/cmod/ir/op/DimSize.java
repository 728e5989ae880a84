package dev.cmod.ir.op;

import dev.cmod.ir.type.Dim;

/**
 * The size a cost estimate assumes for a dim: symbolic dims have no value in the IR, so the caller
 * (the compiler, which knows the model's where bounds) decides.
 */
@FunctionalInterface
public interface DimSize {
  double of(Dim d);
}
