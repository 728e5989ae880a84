package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.syntax.Words;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The source {@code cmod wrap} writes for an ONNX model: an {@code import onnx} of the file and a
 * model that declares the file's inputs and outputs (names, element types, dims, symbolic names)
 * and applies the imported model, ready to compile and run as is and to edit.
 *
 * <p>Batch: an input or output whose first dim is symbolic (or unknown) is written without it and
 * gets the language's implicit leading {@code batch}; one with a fixed first dim, or a scalar, is
 * written {@code exact}. Output types are what the compiler infers for the imported model applied
 * to those inputs, so the wrapper compiles exactly as written.
 */
final class Wrap {
  private Wrap() {}

  /** Where the scratch graph's nodes come from (they are never shown). */
  private static final SourceLoc WRAPPER = new SourceLoc("cmod-wrap", 1, 1);

  /** One port of the model: the file's name, the identifier used for it, its written type. */
  private record Port(String onnxName, String id, TensorType type, boolean batched) {}

  /**
   * The wrapper's source.
   *
   * @param importPath the model file as the wrapper's {@code import onnx} names it
   * @param alias the imported module's name
   * @param modelName the wrapper model's name
   */
  static String source(ImportedModule m, String importPath, String alias, String modelName) {
    Set<String> used = new HashSet<>(List.of(alias, modelName, "batch"));
    Map<String, String> symbols = new LinkedHashMap<>();
    List<Port> inputs = new ArrayList<>();
    Graph g = new Graph(modelName);
    List<Value> args = new ArrayList<>();
    for (int i = 0; i < m.inputNames().size(); i++) {
      String name = m.inputNames().get(i);
      TensorType t = m.inputTypes().get(i);
      boolean batched = t.rank() > 0 && !t.dim(0).isKnown();
      List<Dim> dims = new ArrayList<>();
      for (int a = 0; a < t.rank(); a++) {
        Dim d = t.dim(a);
        if (a == 0 && batched) {
          dims.add(Dim.sym("batch"));
        } else if (d.isKnown()) {
          dims.add(d);
        } else {
          dims.add(Dim.sym(symbol(d, symbols, used)));
        }
      }
      TensorType written = t.withDims(dims);
      String id = identifier(name, used, "input" + i);
      inputs.add(new Port(name, id, written, batched));
      args.add(g.addInput(id, written, WRAPPER));
    }
    List<Value> outs;
    try {
      outs = m.apply(g, args, alias, WRAPPER);
    } catch (ImportedModule.ImportException e) {
      throw new UserError(DiagnosticCode.ONNX_FILE, e.getMessage());
    } catch (ShapeException e) {
      throw new UserError(
          DiagnosticCode.ONNX_FILE, "cannot infer the model's output types: " + e.getMessage());
    }
    List<Port> outputs = new ArrayList<>();
    for (int i = 0; i < outs.size(); i++) {
      TensorType t = outs.get(i).type();
      // an unknown leading dim (a file that records no size there) is taken as the batch; other
      // unknown dims get names of their own, which the user may tie to an input's
      boolean batched = t.rank() > 0 && (t.dim(0).equals(Dim.sym("batch")) || t.dim(0).isUnknown());
      List<Dim> dims = new ArrayList<>();
      for (int a = 0; a < t.rank(); a++) {
        Dim d = t.dim(a);
        dims.add(
            a == 0 && batched
                ? Dim.sym("batch")
                : d.isUnknown() ? Dim.sym(symbol(d, symbols, used)) : d);
      }
      t = t.withDims(dims);
      outputs.add(
          new Port(
              m.outputNames().get(i),
              identifier(m.outputNames().get(i), used, "output" + i),
              t,
              batched));
    }
    return render(importPath, alias, modelName, inputs, outputs);
  }

  private static String render(
      String importPath, String alias, String modelName, List<Port> inputs, List<Port> outputs) {
    StringBuilder sb = new StringBuilder();
    sb.append("// Written by `cmod wrap` for ").append(importPath).append(".\n");
    sb.append("// Compile and run it as is, or edit it: put a head on an output, or adapt the\n");
    sb.append("// imported weights, e.g. `let tuned = ")
        .append(alias)
        .append(" with lora(rank = 4) on \"*\"`.\n");
    sb.append("import onnx \"").append(importPath.replace("\\", "\\\\").replace("\"", "\\\""));
    sb.append("\" as ").append(alias).append("\n\n");
    sb.append("model ").append(modelName).append(" {\n");
    for (Port p : inputs) {
      sb.append("  input ")
          .append(p.id())
          .append(": ")
          .append(type(p))
          .append(comment(p))
          .append('\n');
    }
    StringBuilder call = new StringBuilder(alias).append('(');
    for (int i = 0; i < inputs.size(); i++) {
      call.append(i == 0 ? "" : ", ").append(inputs.get(i).id());
    }
    call.append(')');
    if (outputs.size() == 1) {
      Port p = outputs.get(0);
      sb.append("  output ").append(p.id()).append(": ").append(type(p)).append(" = ");
      sb.append(call).append(comment(p)).append('\n');
    } else {
      String all = "results";
      sb.append("  let ").append(all).append(" = ").append(call).append('\n');
      for (int i = 0; i < outputs.size(); i++) {
        Port p = outputs.get(i);
        sb.append("  output ").append(p.id()).append(": ").append(type(p)).append(" = ");
        sb.append(all).append('.').append(i).append(comment(p)).append('\n');
      }
    }
    return sb.append("}\n").toString();
  }

  /** The type as written in the wrapper: without the implicit batch, or marked exact. */
  private static String type(Port p) {
    TensorType t = p.type();
    List<String> dims = new ArrayList<>();
    for (int a = p.batched() ? 1 : 0; a < t.rank(); a++) {
      dims.add(t.dim(a).toSource());
    }
    return (p.batched() ? "" : "exact ") + t.dtype().text + "[" + String.join(", ", dims) + "]";
  }

  private static String comment(Port p) {
    return p.id().equals(p.onnxName()) ? "" : "  // \"" + p.onnxName().replace("\n", " ") + "\"";
  }

  private static String symbol(Dim d, Map<String, String> symbols, Set<String> used) {
    // each unknown dim is a size of its own; a symbolic one keeps its name wherever it appears
    String key = d.isUnknown() ? "?" + symbols.size() : d.toString();
    if (symbols.containsKey(key)) {
      return symbols.get(key);
    }
    String s = identifier(d.isUnknown() ? "" : key, used, "d" + (symbols.size() + 1));
    symbols.put(key, s);
    return s;
  }

  /**
   * A cmod identifier for an ONNX name: letters, digits and {@code _} kept (lower case first letter
   * not required), anything else {@code _}, a keyword or a clash suffixed, an empty name replaced
   * by {@code fallback}.
   */
  static String identifier(String name, Set<String> used, String fallback) {
    StringBuilder sb = new StringBuilder();
    for (char c : name.toCharArray()) {
      sb.append(c < 128 && (Character.isLetterOrDigit(c) || c == '_') ? c : '_');
    }
    String s = sb.toString().replaceAll("_+$", "");
    if (s.isEmpty() || s.chars().allMatch(c -> c == '_')) {
      s = fallback;
    }
    if (Character.isDigit(s.charAt(0))) {
      s = "v" + s;
    }
    if (KEYWORDS.contains(s) || RESERVED.contains(s)) {
      s = s + "_";
    }
    String base = s;
    for (int n = 2; !used.add(s); n++) {
      s = base + "_" + n;
    }
    return s;
  }

  private static final Set<String> KEYWORDS = Set.copyOf(Words.KEYWORDS);

  /** Type names, and the name the wrapper gives the import's results. */
  private static final Set<String> RESERVED = reserved();

  private static Set<String> reserved() {
    Set<String> out = new HashSet<>(Words.TYPE_NAMES);
    out.add("results");
    return Set.copyOf(out);
  }
}
