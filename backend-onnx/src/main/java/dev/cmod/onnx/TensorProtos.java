package dev.cmod.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Converts IR tensors to ONNX TensorProtos (raw little-endian data) and floats to 16-bit formats.
 */
public final class TensorProtos {
  private TensorProtos() {}

  /** A TensorProto named {@code name} holding {@code t} as raw_data in {@code t}'s dtype. */
  public static TensorProto of(String name, Tensor t) {
    TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(t.dtype().onnxCode);
    for (long d : t.shape()) {
      b.addDims(d);
    }
    // the array is new and not kept, so the message may own it without a copy
    return b.setRawData(com.google.protobuf.UnsafeByteOperations.unsafeWrap(rawBytes(t))).build();
  }

  /** The tensor's elements in row-major order as little-endian bytes of its dtype. */
  static byte[] rawBytes(Tensor t) {
    DType dt = t.dtype();
    int n = t.size();
    ByteBuffer buf =
        ByteBuffer.allocate(Math.multiplyExact(n, dt.byteSize)).order(ByteOrder.LITTLE_ENDIAN);
    switch (dt) {
      case F32 -> {
        for (float v : t.floats()) {
          buf.putFloat(v);
        }
      }
      case F64 -> {
        for (double v : t.doubles()) {
          buf.putDouble(v);
        }
      }
      case F16 -> {
        for (float v : t.floats()) {
          buf.putShort(toHalf(v));
        }
      }
      case BF16 -> {
        for (float v : t.floats()) {
          buf.putShort(toBfloat16(v));
        }
      }
      case I64 -> {
        for (long v : t.longs()) {
          buf.putLong(v);
        }
      }
      case I32 -> {
        for (long v : t.longs()) {
          buf.putInt(Math.toIntExact(v));
        }
      }
      case U32 -> {
        for (long v : t.longs()) {
          buf.putInt((int) v);
        }
      }
      case U64 -> {
        for (long v : t.longs()) {
          buf.putLong(v);
        }
      }
      case I16, U16 -> {
        for (long v : t.longs()) {
          buf.putShort((short) v);
        }
      }
      case I8, U8 -> {
        for (long v : t.longs()) {
          buf.put((byte) v);
        }
      }
      case BOOL -> {
        for (long v : t.longs()) {
          buf.put((byte) (v != 0 ? 1 : 0));
        }
      }
      default -> throw new IllegalArgumentException("no ONNX encoding for " + dt);
    }
    return buf.array();
  }

  /** IEEE binary16 bits of {@code f}, rounding to nearest even. */
  static short toHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;
    if (exp == 0xff) {
      return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      int m = mant | 0x800000;
      int shift = 14 - e;
      int h = m >>> shift;
      int rem = m & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rem > halfway || (rem == halfway && (h & 1) != 0)) {
        h++;
      }
      return (short) (sign | h);
    }
    int h = (e << 10) | (mant >>> 13);
    int rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
      h++;
    }
    return (short) (sign | h);
  }

  /** The float value of IEEE binary16 bits. */
  static float fromHalf(short s) {
    int h = s & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  /** bfloat16 bits of {@code f}, rounding to nearest even. */
  static short toBfloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
    return (short) (rounded >>> 16);
  }

  /** The float value of bfloat16 bits. */
  static float fromBfloat16(short s) {
    return Float.intBitsToFloat((s & 0xffff) << 16);
  }

  /**
   * Parses a serialized model without copying its tensor data: each {@code raw_data} is a view of
   * {@code bytes} (which must not change afterwards), so a model costs its file's size once, not
   * twice.
   */
  public static ai.onnx.proto.OnnxMl.ModelProto parseModel(byte[] bytes)
      throws com.google.protobuf.InvalidProtocolBufferException {
    com.google.protobuf.CodedInputStream in =
        com.google.protobuf.CodedInputStream.newInstance(bytes);
    in.enableAliasing(true);
    in.setSizeLimit(Integer.MAX_VALUE);
    try {
      return ai.onnx.proto.OnnxMl.ModelProto.parseFrom(in);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw e;
    } catch (java.io.IOException e) {
      // a CodedInputStream over an array does no I/O
      throw new com.google.protobuf.InvalidProtocolBufferException(e);
    }
  }

  /** A ValueInfo with the tensor type; symbolic dims become dim_param, unknown dims stay empty. */
  public static ai.onnx.proto.OnnxMl.ValueInfoProto valueInfo(
      String name, dev.cmod.ir.type.TensorType t) {
    ai.onnx.proto.OnnxMl.TensorShapeProto.Builder shape =
        ai.onnx.proto.OnnxMl.TensorShapeProto.newBuilder();
    for (dev.cmod.ir.type.Dim d : t.dims()) {
      ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension.Builder db =
          ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension.newBuilder();
      if (d.isKnown()) {
        db.setDimValue(d.value());
      } else if (!d.isUnknown()) {
        db.setDimParam(d.toString());
      }
      shape.addDim(db);
    }
    ai.onnx.proto.OnnxMl.TypeProto.Tensor.Builder tt =
        ai.onnx.proto.OnnxMl.TypeProto.Tensor.newBuilder()
            .setElemType(t.dtype().onnxCode)
            .setShape(shape);
    return ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(ai.onnx.proto.OnnxMl.TypeProto.newBuilder().setTensorType(tt))
        .build();
  }
}
