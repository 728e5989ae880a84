package dev.cmod.cli;

import ai.onnx.proto.OnnxMl;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Seeded random inputs for an ONNX file that cmod did not compile (shapes from its graph inputs).
 */
final class OnnxInputs {
  private OnnxInputs() {}

  static Map<String, Tensor> random(byte[] model, long seed) {
    OnnxMl.ModelProto m;
    try {
      m = OnnxMl.ModelProto.parseFrom(model);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new UserError(DiagnosticCode.ONNX_FILE, "not an ONNX model: " + e.getMessage());
    }
    java.util.Set<String> inits = new java.util.HashSet<>();
    for (OnnxMl.TensorProto t : m.getGraph().getInitializerList()) {
      inits.add(t.getName());
    }
    Random rng = new Random(seed);
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (OnnxMl.ValueInfoProto vi : m.getGraph().getInputList()) {
      if (inits.contains(vi.getName())) {
        continue;
      }
      OnnxMl.TypeProto.Tensor tt = vi.getType().getTensorType();
      long[] shape = new long[tt.getShape().getDimCount()];
      for (int i = 0; i < shape.length; i++) {
        OnnxMl.TensorShapeProto.Dimension d = tt.getShape().getDim(i);
        shape[i] = d.hasDimValue() ? d.getDimValue() : (i == 0 ? 2 : 8);
      }
      long numel;
      try {
        numel = Tensor.numel(shape);
      } catch (ArithmeticException | IllegalArgumentException e) {
        numel = Long.MAX_VALUE;
      }
      if (numel > Toolchain.MAX_RANDOM_ELEMENTS) {
        throw new UserError(
            DiagnosticCode.LIMIT,
            "input '"
                + Excerpt.of(vi.getName(), 100)
                + "' of shape "
                + java.util.Arrays.toString(shape)
                + " is too large to fill with random values (limit "
                + Toolchain.MAX_RANDOM_ELEMENTS
                + " elements); pass it with --input NAME=FILE.npy");
      }
      int n = (int) numel;
      int elem = tt.getElemType();
      if (elem == DType.F32.onnxCode || elem == DType.F16.onnxCode || elem == DType.BF16.onnxCode) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = (float) rng.nextGaussian();
        }
        DType dt =
            elem == DType.F32.onnxCode
                ? DType.F32
                : elem == DType.F16.onnxCode ? DType.F16 : DType.BF16;
        out.put(vi.getName(), Tensor.ofFloats(dt, shape, f));
      } else if (elem == DType.F64.onnxCode) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
          d[i] = rng.nextGaussian();
        }
        out.put(vi.getName(), Tensor.ofDoubles(shape, d));
      } else if (DType.fromOnnx(elem) != null && !DType.fromOnnx(elem).isFloat()) {
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
          l[i] = rng.nextInt(2);
        }
        out.put(vi.getName(), Tensor.ofLongs(DType.fromOnnx(elem), shape, l));
      } else {
        throw new UserError(
            DiagnosticCode.INPUT_MISMATCH,
            "input '"
                + vi.getName()
                + "' has an element type ("
                + elem
                + ") that cmod run cannot generate yet");
      }
    }
    return out;
  }
}
