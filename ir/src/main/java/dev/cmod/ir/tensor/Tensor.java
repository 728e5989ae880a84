package dev.cmod.ir.tensor;

import dev.cmod.ir.type.DType;
import java.util.Arrays;

/**
 * A dense tensor in row-major order. Floating types are held as {@code float[]} (f16/bf16 are
 * widened on read), integer and boolean types as {@code long[]} (booleans as 0/1).
 */
public final class Tensor {
  private final DType dtype;
  private final long[] shape;
  private final float[] f;
  private final long[] l;

  /**
   * Exact values of an f64 tensor read from a file or returned by ONNX Runtime (null otherwise).
   */
  private final double[] d;

  private Tensor(DType dtype, long[] shape, float[] f, long[] l) {
    this(dtype, shape, f, l, null);
  }

  private Tensor(DType dtype, long[] shape, float[] f, long[] l, double[] d) {
    this.d = d;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.f = f;
    this.l = l;
    long n = numel(shape);
    long have = f != null ? f.length : l.length;
    if (n != have) {
      throw new IllegalArgumentException(
          "tensor of shape " + Arrays.toString(shape) + " needs " + n + " elements, got " + have);
    }
  }

  public static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dim in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  public static Tensor ofFloats(long[] shape, float[] data) {
    return new Tensor(DType.F32, shape, data, null);
  }

  public static Tensor ofFloats(DType dtype, long[] shape, float[] data) {
    if (!dtype.isFloat()) {
      throw new IllegalArgumentException(dtype + " is not a float type");
    }
    return new Tensor(dtype, shape, data, null);
  }

  /**
   * An f64 tensor that keeps its exact values ({@link #doubles()}); {@link #floats()} gives them
   * rounded to float for the interpreter.
   */
  public static Tensor ofDoubles(long[] shape, double[] data) {
    float[] f = new float[data.length];
    for (int i = 0; i < data.length; i++) {
      f[i] = (float) data[i];
    }
    return new Tensor(DType.F64, shape, f, null, data);
  }

  /**
   * The values as doubles: exact for tensors made by {@link #ofDoubles}, widened otherwise (float
   * tensors only).
   */
  public double[] doubles() {
    if (d != null) {
      return d;
    }
    float[] fs = floats();
    double[] out = new double[fs.length];
    for (int i = 0; i < fs.length; i++) {
      out[i] = fs[i];
    }
    return out;
  }

  public static Tensor ofLongs(DType dtype, long[] shape, long[] data) {
    if (dtype.isFloat()) {
      throw new IllegalArgumentException(dtype + " is a float type");
    }
    return new Tensor(dtype, shape, null, data);
  }

  public static Tensor ofLongs(long[] shape, long[] data) {
    return ofLongs(DType.I64, shape, data);
  }

  public static Tensor zeros(DType dtype, long[] shape) {
    int n = Math.toIntExact(numel(shape));
    return dtype.isFloat()
        ? new Tensor(dtype, shape, new float[n], null)
        : new Tensor(dtype, shape, null, new long[n]);
  }

  public static Tensor scalar(float v) {
    return ofFloats(new long[0], new float[] {v});
  }

  public DType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int axis) {
    return shape[axis];
  }

  public int size() {
    return f != null ? f.length : l.length;
  }

  public boolean isFloat() {
    return f != null;
  }

  /** The backing float array (shared, not copied); only for float tensors. */
  public float[] floats() {
    if (f == null) {
      throw new IllegalStateException("tensor of " + dtype + " has no float data");
    }
    return f;
  }

  /** The backing long array (shared, not copied); only for integer and boolean tensors. */
  public long[] longs() {
    if (l == null) {
      throw new IllegalStateException("tensor of " + dtype + " has no integer data");
    }
    return l;
  }

  /** Element {@code i} (flat index) as a double, whatever the dtype. */
  public double get(int i) {
    if (d != null) {
      return d[i];
    }
    if (f != null) {
      return f[i];
    }
    // a u64 value of 2^63 or more is held as a negative long
    return dtype == DType.U64 && l[i] < 0 ? 0x1p64 + l[i] : l[i];
  }

  public Tensor reshape(long[] newShape) {
    return new Tensor(dtype, newShape, f, l, d);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append(dtype).append(Arrays.toString(shape)).append(" [");
    int n = Math.min(size(), 6);
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(
          f != null
              ? String.format(java.util.Locale.ROOT, "%.6g", f[i])
              : dtype == DType.U64 ? Long.toUnsignedString(l[i]) : Long.toString(l[i]));
    }
    if (size() > n) {
      sb.append(", ...");
    }
    return sb.append(']').toString();
  }
}
