package dev.cmod.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Defensive checks of an untrusted ONNX model before it is loaded: it must parse, import an opset
 * and contain a graph; every tensor (initializers, Constant-style tensor attributes, subgraphs
 * included) must have non-negative dims and raw data of the right length; external data must live
 * in a regular file inside the model's directory, named by a relative path without "..", and
 * reached through no symbolic link.
 */
public final class OnnxChecks {
  private OnnxChecks() {}

  /**
   * Validates a serialized model.
   *
   * @param modelDir the directory external-data paths are relative to (null when the model has no
   *     file, in which case any external data is a problem)
   * @return the problems found, in a stable order; empty when the model is acceptable
   */
  public static List<String> validate(byte[] modelBytes, Path modelDir) {
    List<String> problems = new ArrayList<>();
    if (modelBytes == null || modelBytes.length == 0) {
      problems.add("the model file is empty");
      return problems;
    }
    ModelProto m;
    try {
      m = TensorProtos.parseModel(modelBytes);
    } catch (InvalidProtocolBufferException e) {
      problems.add("not a valid ONNX model (protobuf parse error: " + e.getMessage() + ")");
      return problems;
    } catch (RuntimeException e) {
      problems.add("not a valid ONNX model (" + e + ")");
      return problems;
    }
    if (m.getIrVersion() <= 0) {
      problems.add("the model has no ir_version");
    }
    if (m.getOpsetImportCount() == 0) {
      problems.add("the model imports no operator set (opset_import is empty)");
    }
    if (!m.hasGraph()) {
      problems.add("the model has no graph");
      return problems;
    }
    // names ONNX Runtime would cut at a NUL (C strings) or merge: the outputs cmod gets back must
    // be the declared ones
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (ai.onnx.proto.OnnxMl.ValueInfoProto v : m.getGraph().getOutputList()) {
      if (v.getName().indexOf('\0') >= 0) {
        problems.add("graph output name contains a NUL character");
      } else if (!seen.add(v.getName())) {
        problems.add(
            "graph output '"
                + (v.getName().length() > 100 ? v.getName().substring(0, 100) + "..." : v.getName())
                + "' is declared twice");
      }
    }
    for (ai.onnx.proto.OnnxMl.ValueInfoProto v : m.getGraph().getInputList()) {
      if (v.getName().indexOf('\0') >= 0) {
        problems.add("graph input name contains a NUL character");
      }
    }
    checkGraph(m.getGraph(), "graph", modelDir, problems, 0);
    for (ai.onnx.proto.OnnxMl.FunctionProto f : m.getFunctionsList()) {
      checkNodes(f.getNodeList(), "function '" + f.getName() + "'", modelDir, problems, 1);
    }
    return problems;
  }

  private static void checkGraph(
      GraphProto g, String where, Path dir, List<String> problems, int depth) {
    if (depth > 64) {
      problems.add(where + ": subgraphs nested too deeply");
      return;
    }
    for (TensorProto t : g.getInitializerList()) {
      checkTensor(t, where + " initializer '" + t.getName() + "'", dir, problems);
    }
    for (ai.onnx.proto.OnnxMl.SparseTensorProto sp : g.getSparseInitializerList()) {
      checkSparse(sp, where + " sparse initializer", dir, problems);
    }
    checkNodes(g.getNodeList(), where, dir, problems, depth);
  }

  private static void checkSparse(
      ai.onnx.proto.OnnxMl.SparseTensorProto sp, String what, Path dir, List<String> problems) {
    if (sp.hasValues()) {
      checkTensor(sp.getValues(), what + " values", dir, problems);
    }
    if (sp.hasIndices()) {
      checkTensor(sp.getIndices(), what + " indices", dir, problems);
    }
  }

  private static void checkNodes(
      List<NodeProto> nodes, String where, Path dir, List<String> problems, int depth) {
    for (NodeProto n : nodes) {
      for (AttributeProto a : n.getAttributeList()) {
        String at = where + " node '" + n.getName() + "' attribute '" + a.getName() + "'";
        if (a.hasT()) {
          checkTensor(a.getT(), at, dir, problems);
        }
        for (TensorProto t : a.getTensorsList()) {
          checkTensor(t, at, dir, problems);
        }
        if (a.hasSparseTensor()) {
          checkSparse(a.getSparseTensor(), at, dir, problems);
        }
        for (ai.onnx.proto.OnnxMl.SparseTensorProto sp : a.getSparseTensorsList()) {
          checkSparse(sp, at, dir, problems);
        }
        if (a.hasG()) {
          checkGraph(a.getG(), at, dir, problems, depth + 1);
        }
        for (GraphProto sub : a.getGraphsList()) {
          checkGraph(sub, at, dir, problems, depth + 1);
        }
      }
    }
  }

  private static void checkTensor(TensorProto t, String what, Path dir, List<String> problems) {
    long numel = 1;
    boolean dimsOk = true;
    for (long d : t.getDimsList()) {
      if (d < 0) {
        problems.add(what + ": negative dim " + d + " in " + t.getDimsList());
        dimsOk = false;
      } else if (dimsOk) {
        try {
          numel = Math.multiplyExact(numel, d);
        } catch (ArithmeticException e) {
          problems.add(what + ": element count overflows in " + t.getDimsList());
          dimsOk = false;
        }
      }
    }
    boolean external = t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
    if (t.hasRawData() && !external) {
      int size = elemSize(t.getDataType());
      if (size > 0 && dimsOk) {
        long want;
        try {
          want = Math.multiplyExact(numel, size);
        } catch (ArithmeticException e) {
          want = -1;
        }
        if (want != t.getRawData().size()) {
          problems.add(
              what
                  + ": raw_data has "
                  + t.getRawData().size()
                  + " bytes, expected "
                  + want
                  + " ("
                  + numel
                  + " elements of "
                  + size
                  + " bytes)");
        }
      }
    }
    if (external) {
      checkExternal(t, what, dir, problems);
    } else if (t.getExternalDataCount() > 0) {
      problems.add(what + ": has external_data entries but data_location is not EXTERNAL");
    }
  }

  private static void checkExternal(TensorProto t, String what, Path dir, List<String> problems) {
    String location = null;
    long offset = 0;
    long length = -1;
    boolean numbers = true;
    for (StringStringEntryProto e : t.getExternalDataList()) {
      switch (e.getKey()) {
        case "location" -> location = e.getValue();
        case "offset", "length" -> {
          try {
            long v = Long.parseLong(e.getValue());
            if (v < 0) {
              problems.add(what + ": external data " + e.getKey() + " is negative");
            }
            if (e.getKey().equals("offset")) {
              offset = v;
            } else {
              length = v;
            }
          } catch (NumberFormatException ex) {
            problems.add(
                what + ": external data " + e.getKey() + " '" + e.getValue() + "' is not a number");
            numbers = false;
          }
        }
        default -> {}
      }
    }
    if (location == null || location.isEmpty()) {
      problems.add(what + ": external data without a location");
      return;
    }
    if (dir == null) {
      problems.add(what + ": external data '" + location + "' but the model has no directory");
      return;
    }
    if (location.startsWith("/") || location.startsWith("\\") || location.matches("^[A-Za-z]:.*")) {
      problems.add(what + ": external data path '" + location + "' is absolute");
      return;
    }
    for (String part : location.split("[/\\\\]")) {
      if (part.equals("..")) {
        problems.add(what + ": external data path '" + location + "' contains '..'");
        return;
      }
    }
    Path base;
    Path file;
    try {
      Path rel = Path.of(location);
      if (rel.isAbsolute()) {
        problems.add(what + ": external data path '" + location + "' is absolute");
        return;
      }
      base = dir.toAbsolutePath().normalize();
      file = base.resolve(rel).normalize();
    } catch (InvalidPathException e) {
      problems.add(
          what
              + ": external data path '"
              + location
              + "' is not a valid path ("
              + e.getMessage()
              + ")");
      return;
    }
    if (!file.startsWith(base) || file.equals(base)) {
      problems.add(what + ": external data path '" + location + "' leaves the model directory");
      return;
    }
    for (Path p = file; p != null && !p.equals(base); p = p.getParent()) {
      if (Files.isSymbolicLink(p)) {
        problems.add(
            what
                + ": external data path '"
                + location
                + "' goes through a symbolic link ("
                + base.relativize(p)
                + ")");
        return;
      }
    }
    if (!numbers) {
      return; // reported above
    }
    long need = ExternalData.bytesOf(t);
    if (length >= 0 && need >= 0 && length != need) {
      problems.add(
          what
              + ": external data length "
              + length
              + " does not match the tensor's "
              + need
              + " bytes");
      return;
    }
    long want = length >= 0 ? length : need;
    try (java.nio.channels.FileChannel ch =
        dev.cmod.ir.io.SafeFiles.open(
            file, dev.cmod.ir.io.SafeFiles.Policy.MODEL, Long.MAX_VALUE)) {
      long size = ch.size();
      if (offset < 0 || want < 0 || offset > size || want > size - offset) {
        problems.add(
            what
                + ": external data ["
                + offset
                + ", +"
                + want
                + ") lies beyond the end of '"
                + location
                + "' ("
                + size
                + " bytes)");
      }
    } catch (java.nio.file.NoSuchFileException e) {
      problems.add(what + ": external data file '" + location + "' does not exist");
    } catch (java.io.IOException e) {
      problems.add(
          what
              + ": external data file '"
              + location
              + "' "
              + (e instanceof dev.cmod.ir.io.SafeFiles.RefusedException ? "" : "cannot be read: ")
              + dev.cmod.ir.io.SafeFiles.describe(e));
    }
  }

  /**
   * Tensors whose size a model fixes with constants and that would be larger than {@code
   * maxElements}: {@code ConstantOfShape}, {@code Expand} and {@code Tile} with a constant shape
   * (an initializer or a {@code Constant} node). A 162-byte model can ask for 2^31 elements this
   * way; {@code cmod run} refuses it before ONNX Runtime allocates them. Subgraphs are searched
   * too.
   */
  public static List<String> hugeConstantShapes(byte[] modelBytes, long maxElements) {
    List<String> problems = new ArrayList<>();
    ModelProto m;
    try {
      m = TensorProtos.parseModel(modelBytes);
    } catch (InvalidProtocolBufferException e) {
      return problems;
    }
    if (m.hasGraph()) {
      hugeShapes(m.getGraph(), new java.util.HashMap<>(), maxElements, problems, 0);
    }
    return problems;
  }

  private static void hugeShapes(
      GraphProto g,
      java.util.Map<String, TensorProto> outer,
      long max,
      List<String> problems,
      int depth) {
    if (depth > 64) {
      return;
    }
    java.util.Map<String, TensorProto> consts = new java.util.HashMap<>(outer);
    for (TensorProto t : g.getInitializerList()) {
      consts.put(t.getName(), t);
    }
    for (NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("Constant") && n.getOutputCount() == 1) {
        for (AttributeProto a : n.getAttributeList()) {
          if (a.getName().equals("value") && a.hasT()) {
            consts.put(n.getOutput(0), a.getT());
          }
        }
      }
    }
    for (NodeProto n : g.getNodeList()) {
      String op = n.getOpType();
      int shapeInput =
          op.equals("ConstantOfShape") ? 0 : op.equals("Expand") || op.equals("Tile") ? 1 : -1;
      if (shapeInput >= 0
          && n.getInputCount() > shapeInput
          && (n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"))) {
        TensorProto t = consts.get(n.getInput(shapeInput));
        long[] v = t == null ? null : int64Values(t);
        if (v != null) {
          long count = 1;
          for (long d : v) {
            if (d <= 0) {
              count = d == 0 ? 0 : count;
              if (d == 0) {
                break;
              }
              continue;
            }
            count = count > Long.MAX_VALUE / d ? Long.MAX_VALUE : count * d;
          }
          if (count > max) {
            problems.add(
                "node '"
                    + n.getName()
                    + "' ("
                    + op
                    + ") asks for "
                    + (count == Long.MAX_VALUE ? "more than 2^63" : count)
                    + (op.equals("ConstantOfShape") ? " elements" : " elements or copies")
                    + " "
                    + java.util.Arrays.toString(v)
                    + ", more than the limit of "
                    + max);
          }
        }
      }
      for (AttributeProto a : n.getAttributeList()) {
        if (a.hasG()) {
          hugeShapes(a.getG(), consts, max, problems, depth + 1);
        }
        for (GraphProto sub : a.getGraphsList()) {
          hugeShapes(sub, consts, max, problems, depth + 1);
        }
      }
    }
  }

  /** The values of a small int64 tensor (inline data only), or null. */
  private static long[] int64Values(TensorProto t) {
    if (t.getDataType() != 7 || t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      return null;
    }
    if (t.getInt64DataCount() > 0) {
      long[] v = new long[Math.min(t.getInt64DataCount(), 64)];
      for (int i = 0; i < v.length; i++) {
        v[i] = t.getInt64Data(i);
      }
      return v;
    }
    if (t.hasRawData() && t.getRawData().size() % 8 == 0 && t.getRawData().size() <= 8 * 64) {
      java.nio.ByteBuffer b =
          t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
      long[] v = new long[t.getRawData().size() / 8];
      for (int i = 0; i < v.length; i++) {
        v[i] = b.getLong(8 * i);
      }
      return v;
    }
    return null;
  }

  /** Bytes per element of an ONNX data type; 0 when not fixed-size or not known. */
  static int elemSize(int dataType) {
    return switch (dataType) {
      case 2, 3, 9, 17, 18, 19, 20 -> 1; // uint8, int8, bool, float8 variants
      case 4, 5, 10, 16 -> 2; // uint16, int16, float16, bfloat16
      case 1, 6, 12 -> 4; // float, int32, uint32
      case 7, 11, 13, 14 -> 8; // int64, double, uint64, complex64
      case 15 -> 16; // complex128
      default -> 0; // undefined, string, 4-bit types, unknown
    };
  }
}
