package dev.cmod.ir.type;

import java.util.List;
import java.util.stream.Collectors;

/** A tensor type: element type and a shape of known rank whose dims may be symbolic. */
public record TensorType(DType dtype, List<Dim> dims) {

  public TensorType {
    dims = List.copyOf(dims);
  }

  public static TensorType of(DType dtype, long... sizes) {
    Dim[] d = new Dim[sizes.length];
    for (int i = 0; i < sizes.length; i++) {
      d[i] = Dim.of(sizes[i]);
    }
    return new TensorType(dtype, List.of(d));
  }

  public int rank() {
    return dims.size();
  }

  public Dim dim(int axis) {
    return dims.get(axis);
  }

  public TensorType withDims(List<Dim> newDims) {
    return new TensorType(dtype, newDims);
  }

  public TensorType withDtype(DType d) {
    return new TensorType(d, dims);
  }

  /** Product of all dims (symbolic when any dim is). */
  public Dim numel() {
    Dim n = Dim.of(1);
    for (Dim d : dims) {
      n = n.times(d);
    }
    return n;
  }

  public boolean isStatic() {
    return dims.stream().allMatch(Dim::isKnown);
  }

  @Override
  public String toString() {
    return dtype + dims.stream().map(Dim::toString).collect(Collectors.joining(", ", "[", "]"));
  }
}
