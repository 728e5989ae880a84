package dev.cmod.compiler;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.AdapterPlan;
import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.compiler.sema.Suggest;
import dev.cmod.ir.graph.AdapterInterface;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.LeafOps;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The step between elaboration and the passes that lays out run-time adapters ({@code --adapters
 * runtime | runtime-stacked}): in runtime mode the LoRA factors and IA³ vectors become overridable
 * parameters (graph inputs whose initializers are the compiled values, so that no pass folds them
 * into the weights and an adapter file can replace them per run); in both modes the adapter
 * interface is computed for the artifact's metadata. It runs before the passes because it decides
 * what they may fold.
 */
final class RuntimeAdapters {
  private RuntimeAdapters() {}

  /**
   * Lays out the adapters of {@code g} for {@code plan}; returns the interface, or null for merged
   * factors and when an error was reported.
   */
  static AdapterInterface apply(
      Graph g, ModelFacts facts, AdapterPlan plan, Diagnostics diags, Span at) {
    if (plan.mode() == AdapterPlan.Mode.MERGED) {
      return null;
    }
    String mode =
        plan.mode() == AdapterPlan.Mode.RUNTIME
            ? AdapterInterface.RUNTIME
            : AdapterInterface.STACKED;
    if (plan.mode() == AdapterPlan.Mode.STACKED && plan.adapters().isEmpty()) {
      diags.error(
          DiagnosticCode.ADAPTER_OPTION,
          at,
          "--adapters " + mode + " needs the adapters to stack",
          "give each as --adapter-weights NAME=FILE.safetensors");
      return null;
    }
    if (facts.adapterFactors().isEmpty()) {
      diags.error(
          DiagnosticCode.ADAPTER_OPTION,
          at,
          "--adapters " + mode + ": the model has no LoRA or IA³ parameters",
          "adapt an instance with `with lora(rank = r) on \"...\"` or `with ia3 on \"...\"`");
      return null;
    }
    List<AdapterInterface.Param> params = new ArrayList<>();
    for (Node n : List.copyOf(g.nodes())) {
      if (n.op() != Op.PARAM || !facts.adapterFactors().contains(LeafOps.PATH.get(n.attrs()))) {
        continue;
      }
      params.add(
          new AdapterInterface.Param(
              LeafOps.PATH.get(n.attrs()), n.type().dtype(), LeafOps.VALUE.get(n.attrs()).shape()));
      if (plan.mode() == AdapterPlan.Mode.RUNTIME) {
        g.replaceLeaf(n, n.attrs().with(LeafOps.OVERRIDABLE.name(), true), n.type());
      }
    }
    if (plan.mode() == AdapterPlan.Mode.RUNTIME) {
      return new AdapterInterface(mode, params, List.of(), null);
    }
    List<String> names = new ArrayList<>();
    List<String> paths = new ArrayList<>(facts.adapterFactors());
    for (AdapterPlan.Adapter a : plan.adapters()) {
      names.add(a.name());
      for (Map.Entry<String, ?> e : a.weights().entrySet()) {
        if (!facts.adapterFactors().contains(e.getKey())) {
          String near = Suggest.closest(e.getKey(), paths);
          diags.error(
              DiagnosticCode.ADAPTER_UNKNOWN,
              at,
              "adapter '"
                  + a.name()
                  + "' ("
                  + a.source()
                  + "): '"
                  + e.getKey()
                  + "' is not an adapter parameter of this model",
              near != null ? "did you mean '" + near + "'?" : "cmod explain lists the parameters");
        }
      }
    }
    return diags.hasErrors()
        ? null
        : new AdapterInterface(mode, params, names, AdapterPlan.INDEX_INPUT);
  }
}
