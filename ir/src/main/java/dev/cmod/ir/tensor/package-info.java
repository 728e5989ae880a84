/**
 * Dense tensors with a dtype and a shape, used for constants, parameters, inputs and the
 * interpreter's values.
 */
package dev.cmod.ir.tensor;
