package dev.cmod.cli.deploy;

/**
 * What {@code cmod package} was asked for besides the model: the model's name in the layout (a
 * plain file name), the batching limits given to the engine, whether the weights go to an external
 * data file, and, for KServe, where the cluster will find the model repository.
 */
public record PackageOptions(
    String name,
    int maxBatchSize,
    int maxBatchDelayMillis,
    boolean externalData,
    String storageUri) {
  public PackageOptions {
    if (!Layout.isPlainName(name)) {
      throw new IllegalArgumentException("not a plain name: " + name);
    }
    if (maxBatchSize < 1 || maxBatchDelayMillis < 0) {
      throw new IllegalArgumentException("batch size below 1 or negative delay");
    }
  }
}
