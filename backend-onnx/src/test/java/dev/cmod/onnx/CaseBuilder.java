package dev.cmod.onnx;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Builds a small test graph together with its input values and optional hand-computed outputs. */
final class CaseBuilder {
  final Graph g;
  final Random rnd;
  final Map<String, Tensor> feeds = new LinkedHashMap<>();
  final Map<String, Tensor> expected = new LinkedHashMap<>();
  private int line = 1;

  CaseBuilder(String name, long seed) {
    this.g = new Graph(name);
    this.rnd = new Random(seed);
  }

  private SourceLoc loc() {
    return new SourceLoc("test.cmod", line++, 1);
  }

  /** An input with a fixed value; its type is the value's. */
  Value in(String name, Tensor value) {
    feeds.put(name, value);
    return g.addInput(name, TensorType.of(value.dtype(), value.shape()), loc());
  }

  /** An input of a declared (possibly symbolic) type. */
  Value in(String name, TensorType type) {
    return g.addInput(name, type, loc());
  }

  Value param(String path, Tensor value) {
    return g.addParam(path, value, true, loc());
  }

  Value constant(Tensor value) {
    return g.addConst(value, loc());
  }

  Node node(Op op, Attrs a, Value... operands) {
    return g.add(op, a, List.of(operands), loc());
  }

  Value op(Op op, Attrs a, Value... operands) {
    return node(op, a, operands).out();
  }

  Value op(Op op, Value... operands) {
    return op(op, Attrs.NONE, operands);
  }

  CaseBuilder out(String name, Value v) {
    g.setOutput(name, v);
    return this;
  }

  /** A hand-computed expected value for output {@code name}. */
  CaseBuilder expect(String name, Tensor t) {
    expected.put(name, t);
    return this;
  }

  static List<Dim> dims(Object... ds) {
    List<Dim> out = new ArrayList<>();
    for (Object d : ds) {
      out.add(
          d instanceof Dim dim
              ? dim
              : d instanceof String s ? Dim.sym(s) : Dim.of(((Number) d).longValue()));
    }
    return out;
  }
}
