/**
 * The reference interpreter: evaluates any IR graph in plain Java, validating the inputs against
 * the graph's declared types and binding symbolic dims. It is the test oracle for every later stage
 * of the compiler.
 */
package dev.cmod.ir.interp;
