package dev.cmod.cli;

import dev.cmod.onnx.OnnxRunner;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code --device}, shared by the commands that run a model on ONNX Runtime, so that {@code run}
 * and {@code bench} read it the same way: {@code cpu}, or {@code cuda} (also spelled {@code gpu});
 * anything else is a usage error.
 */
final class DeviceOption {
  @Option(
      names = "--device",
      description = "cpu or cuda (default: ${DEFAULT-VALUE}).",
      defaultValue = "cpu")
  String device;

  OnnxRunner.Device device() {
    return switch (device.toLowerCase(Locale.ROOT)) {
      case "cpu" -> OnnxRunner.Device.CPU;
      case "cuda", "gpu" -> OnnxRunner.Device.CUDA;
      default -> throw Main.usageError("--device must be cpu or cuda");
    };
  }
}
