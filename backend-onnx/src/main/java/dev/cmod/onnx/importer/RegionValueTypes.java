package dev.cmod.onnx.importer;

import static dev.cmod.onnx.importer.NodeProtos.intOf;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What is known of the types of a model's values without inferring them, for the conversions of
 * {@link OpsetDowngrade} that depend on a rank or an element type: the types the file declares
 * (inputs, outputs and {@code value_info} of every graph), those that the operator making a value
 * fixes (comparisons and logic make booleans, Cast its target, Optional an optional), and the
 * importer's own for the values it raised ({@link OpsetDowngrade.Facts}).
 */
final class RegionValueTypes {
  /** Operators whose output is boolean whatever their inputs. */
  private static final Set<String> BOOL_MAKERS =
      Set.of(
          "Equal",
          "Greater",
          "GreaterOrEqual",
          "Less",
          "LessOrEqual",
          "Not",
          "And",
          "Or",
          "Xor",
          "IsNaN",
          "IsInf");

  private final OpsetDowngrade.Facts facts;
  private final Map<String, TypeProto> declared = new HashMap<>();
  private final Map<String, Integer> made = new HashMap<>();
  private final Set<String> optionals = new HashSet<>();

  RegionValueTypes(GraphProto main, OpsetDowngrade.Facts facts) {
    this.facts = facts;
    collect(main);
  }

  /** The rank of {@code name} where the file or the importer says it; -1 otherwise. */
  int rank(String name) {
    TypeProto t = declared.get(name);
    if (t != null && t.hasTensorType() && t.getTensorType().hasShape()) {
      return t.getTensorType().getShape().getDimCount();
    }
    return facts.rank(name);
  }

  /** The ONNX element type of {@code name} where it is known; 0 otherwise. */
  int elemType(String name) {
    TypeProto t = declared.get(name);
    if (t != null && t.hasTensorType() && t.getTensorType().getElemType() != 0) {
      return t.getTensorType().getElemType();
    }
    Integer m = made.get(name);
    return m != null ? m : facts.elemType(name);
  }

  /**
   * Whether {@code name} is an optional (true), a tensor or sequence (false), or unknown (null).
   */
  Boolean optional(String name) {
    TypeProto t = declared.get(name);
    if (optionals.contains(name) || t != null && t.hasOptionalType()) {
      return true;
    }
    if (t != null && (t.hasTensorType() || t.hasSequenceType()) || facts.rank(name) >= 0) {
      return false;
    }
    return null;
  }

  private void collect(GraphProto g) {
    for (List<ValueInfoProto> infos :
        List.of(g.getInputList(), g.getOutputList(), g.getValueInfoList())) {
      infos.forEach(v -> declared.putIfAbsent(v.getName(), v.getType()));
    }
    for (NodeProto n : g.getNodeList()) {
      if (NodeProtos.isDefaultDomain(n)) {
        if (n.getOpType().equals("Optional")) {
          optionals.addAll(n.getOutputList());
        } else if (BOOL_MAKERS.contains(n.getOpType()) && n.getOutputCount() == 1) {
          made.put(n.getOutput(0), TensorProto.DataType.BOOL_VALUE);
        } else if (n.getOpType().equals("Cast") && n.getOutputCount() == 1) {
          made.put(n.getOutput(0), (int) intOf(n, "to", 0));
        }
      }
      for (AttributeProto a : n.getAttributeList()) {
        if (a.hasG()) {
          collect(a.getG());
        }
        a.getGraphsList().forEach(this::collect);
      }
    }
  }
}
