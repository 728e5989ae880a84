package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.BundleV;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * {@code base with weights(from = hf, map = [...], skip = [...])}: the parameters of a new instance
 * are set from a PyTorch state dict in Hugging Face naming ({@code model.safetensors}). The {@link
 * KeyMap} pairs cmod layers with the checkpoint's modules; within a layer, a parameter's name is
 * translated to PyTorch's ({@code gamma}/{@code beta} of a norm are {@code weight}/{@code bias}, an
 * embedding's {@code table} is its {@code weight}), and a 2-D {@code weight} (a Linear's) is
 * transposed from PyTorch's {@code [out, in]}. Every checkpoint key must set a parameter or be
 * skipped, so nothing trained is silently dropped.
 */
final class HfLoad {
  private final BundleV bundle;
  private final KeyMap map;
  private final List<Pattern> skip;
  private final Span span;
  private final Set<String> used = new HashSet<>();
  private final TreeSet<String> unset = new TreeSet<>();

  HfLoad(BundleV bundle, KeyMap map, List<Pattern> skip, Span span) {
    this.bundle = bundle;
    this.map = map;
    this.skip = skip;
    this.span = span;
  }

  /** What {@link KeyMap} maps to: every module of the checkpoint and every key itself. */
  static Set<String> names(BundleV bundle) {
    Set<String> s = new TreeSet<>(bundle.tensors().keySet());
    for (String k : bundle.tensors().keySet()) {
      if (k.contains(".")) {
        s.add(k.substring(0, k.lastIndexOf('.')));
      }
    }
    return s;
  }

  /**
   * The value of parameter {@code rel} (relative to the loaded instance) in cmod's layout, or null
   * when the checkpoint has none (the parameter then keeps the base's value).
   */
  Tensor value(String rel, TensorType t, ElabContext el) {
    int dot = rel.lastIndexOf('.');
    String leaf = rel.substring(dot + 1);
    String key = null;
    long[] shape = t.dims().stream().mapToLong(Dim::value).toArray();
    boolean linear = leaf.equals("weight") && shape.length == 2;
    long[] want = linear ? new long[] {shape[1], shape[0]} : shape;
    if (dot > 0) {
      String module =
          map.resolve(
              rel.substring(0, dot),
              m ->
                  torchNames(leaf).stream()
                      .map(n -> bundle.tensors().get(m + "." + n))
                      .anyMatch(v -> v != null && Arrays.equals(v.shape(), want)),
              el);
      if (module != null) {
        for (String name : torchNames(leaf)) {
          if (bundle.tensors().containsKey(module + "." + name)) {
            key = module + "." + name;
            break;
          }
        }
      }
    }
    if (key == null) {
      String direct =
          map.resolve(
              rel,
              k ->
                  bundle.tensors().containsKey(k)
                      && Arrays.equals(bundle.tensors().get(k).shape(), want),
              el);
      key = direct != null && bundle.tensors().containsKey(direct) ? direct : null;
    }
    if (key == null) {
      unset.add(rel);
      return null;
    }
    used.add(key);
    Tensor v = bundle.tensors().get(key);
    if (!Arrays.equals(v.shape(), want) || !v.isFloat() && t.dtype().isFloat()) {
      el.fail(
          DiagnosticCode.KEY_SHAPE,
          span,
          "'"
              + key
              + "' of "
              + bundle.name()
              + " is "
              + Arrays.toString(v.shape())
              + " but sets '"
              + rel
              + "', "
              + t
              + (linear ? ", which PyTorch stores as " + Arrays.toString(want) : ""),
          "map the module to the layer of its size (a Linear's weight is [out, in] in PyTorch,"
              + " [in, out] in cmod)");
    }
    if (linear) {
      return PeftRule.transpose(v, t.dtype());
    }
    float[] f = new float[v.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) v.get(i);
    }
    return Tensor.ofFloats(t.dtype(), shape, f);
  }

  /** PyTorch's names for a cmod parameter name, most likely first. */
  private static List<String> torchNames(String leaf) {
    return switch (leaf) {
      case "gamma" -> List.of("weight", "gamma");
      case "beta" -> List.of("bias", "beta");
      case "table" -> List.of("weight");
      default -> List.of(leaf);
    };
  }

  /**
   * After the first application: every checkpoint key set a parameter or is skipped ({@code CM0311}
   * otherwise, with the closest cmod paths); the parameters it did not set are a note.
   */
  void check(List<String> relPaths, ElabContext el) {
    for (String k : bundle.tensors().keySet()) {
      if (used.contains(k) || skip.stream().anyMatch(p -> p.matcher(k).matches())) {
        continue;
      }
      List<String> near = new ArrayList<>(relPaths);
      near.sort(
          Comparator.comparingInt((String s) -> Suggest.distance(k, s)).thenComparing(s -> s));
      el.diags()
          .error(
              DiagnosticCode.KEY_UNMATCHED,
              span,
              "key '" + k + "' of " + bundle.name() + " sets no parameter of the base",
              (near.isEmpty()
                      ? ""
                      : "closest cmod parameters: "
                          + String.join(", ", near.subList(0, Math.min(3, near.size())))
                          + "; ")
                  + "pair its module with a layer in map = [...], or leave it out with skip = [\""
                  + k
                  + "\"]");
    }
    if (!unset.isEmpty()) {
      el.diags()
          .note(
              DiagnosticCode.WEIGHTS_DEFAULTED,
              span,
              unset.size()
                  + " parameter(s) not in "
                  + bundle.name()
                  + " keep the base's values: "
                  + String.join(", ", new ArrayList<>(unset).subList(0, Math.min(8, unset.size())))
                  + (unset.size() > 8 ? ", ..." : ""));
    }
  }
}
