/**
 * Test support shared by every module: {@code @Requires} declares what a test needs (PyTorch, the
 * ONNX test data, the shared corpora), and {@link dev.cmod.testkit.SkipReport} prints every skipped
 * test with its reason; under {@code CMOD_CI=1} a missing need fails instead of skipping.
 */
package dev.cmod.testkit;
