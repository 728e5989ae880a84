/**
 * {@code cmod serve}: a development server that answers KServe's v2 REST inference protocol (JSON
 * tensors) for one model on ONNX Runtime. {@link dev.cmod.cli.serve.ModelSignature} is what the
 * model takes and gives, read from the ONNX graph; {@link dev.cmod.cli.serve.V2Json} turns request
 * bodies into checked tensors and results into response bodies; {@link dev.cmod.cli.serve.Batcher}
 * is the bounded queue and the dynamic batcher in front of the session; {@link
 * dev.cmod.cli.serve.InferenceServer} is the HTTP side (Jetty), with its limits and its graceful
 * stop. The command itself is {@code dev.cmod.cli.ServeCommand}.
 */
package dev.cmod.cli.serve;
