package dev.cmod.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;

/**
 * Writing an artifact's weights beside it as ONNX external data, the form ONNX Runtime and the
 * serving engines read for models over protobuf's 2 GiB limit. The model names one data file by a
 * bare file name (so it is found in the model's own folder and never names a path elsewhere); each
 * initializer of at least {@link #MIN_BYTES} bytes is moved there at an offset aligned to {@link
 * #ALIGN} bytes, smaller ones stay inline.
 */
public final class ExternalDataWriter {
  private ExternalDataWriter() {}

  /** Initializers smaller than this stay inside the model. */
  public static final int MIN_BYTES = 1024;

  /** Offsets in the data file are multiples of this (a page, so the file can be mapped). */
  public static final int ALIGN = 4096;

  /**
   * Above this many bytes of weights the model cannot be one protobuf message: its weights go to
   * external data whether asked or not (2 GiB less room for the graph itself).
   */
  public static final long AUTO_BYTES = (2L << 30) - (64L << 20);

  /** The model without its large weights, and the data file's contents in order. */
  public record Split(ModelProto model, List<ByteString> chunks, long dataBytes) {}

  /** The bytes of raw tensor data the model's initializers hold. */
  public static long weightBytes(ModelProto m) {
    long n = 0;
    for (TensorProto t : m.getGraph().getInitializerList()) {
      n += t.getRawData().size();
    }
    return n;
  }

  /**
   * Moves the large initializers of {@code m} into a data file named {@code location} (a bare file
   * name in the model's folder).
   */
  public static Split split(ModelProto m, String location) {
    if (location.contains("/") || location.contains("\\") || location.startsWith(".")) {
      throw new IllegalArgumentException("external data is a bare file name: " + location);
    }
    GraphProto.Builder g = m.getGraph().toBuilder();
    List<ByteString> chunks = new ArrayList<>();
    long offset = 0;
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      ByteString raw = t.getRawData();
      if (raw.size() < MIN_BYTES) {
        continue;
      }
      long pad = (ALIGN - offset % ALIGN) % ALIGN;
      if (pad > 0) {
        chunks.add(ByteString.copyFrom(new byte[(int) pad]));
        offset += pad;
      }
      chunks.add(raw);
      g.setInitializer(
          i,
          t.toBuilder()
              .clearRawData()
              .setDataLocation(TensorProto.DataLocation.EXTERNAL)
              .addExternalData(entry("location", location))
              .addExternalData(entry("offset", Long.toString(offset)))
              .addExternalData(entry("length", Integer.toString(raw.size()))));
      offset += raw.size();
    }
    return new Split(m.toBuilder().setGraph(g).build(), chunks, offset);
  }

  private static StringStringEntryProto entry(String k, String v) {
    return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }
}
