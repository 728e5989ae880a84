/**
 * The typed graph IR of cmod: tensor types with symbolic dims, operator definitions with shape
 * inference, the graph itself (JGraphT behind a small facade), printers, a verifier and the
 * reference interpreter that serves as the test oracle for every later stage.
 */
package dev.cmod.ir;
