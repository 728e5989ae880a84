/**
 * Serving layouts for a compiled model ({@code cmod package}): the folder each serving engine
 * expects — Triton's model repository ({@link dev.cmod.cli.deploy.TritonLayout}), a DJL Serving
 * model folder ({@link dev.cmod.cli.deploy.DjlLayout}), a KServe {@code InferenceService} with its
 * model repository ({@link dev.cmod.cli.deploy.KServeLayout}) — derived from the ONNX artifact's
 * own signature ({@link dev.cmod.cli.deploy.ServingSignature}) and written all at once or not at
 * all ({@link dev.cmod.cli.deploy.LayoutWriter}).
 */
package dev.cmod.cli.deploy;
