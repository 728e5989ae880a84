/**
 * Tests of the optimizer over the whole corpus: each pass alone keeps every sample's and stdlib
 * module's interpreter outputs, golden IR text per sample at -O0 and -O2, and the IR text parser
 * reading back what the printer wrote for real models.
 */
package dev.cmod.passes;
