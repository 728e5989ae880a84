/**
 * Types of the IR: element types ({@link dev.cmod.ir.type.DType}), dimensions that are fixed or
 * symbolic expressions ({@link dev.cmod.ir.type.Dim}), and tensor types built from them.
 */
package dev.cmod.ir.type;
