package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.ListV;
import dev.cmod.compiler.sema.Val.StrV;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The map from a cmod instance path (relative to the adapted or loaded base) to a Hugging Face
 * module path of a checkpoint. Written rules come first ({@code map = [["encoder.layer.*.query",
 * "blocks.*.attn.q"]]}: each {@code *} is one path segment, filled in order); otherwise a module
 * maps to the cmod path it equals or ends with ({@code body.fc1} for {@code fc1}), when exactly one
 * module does. Checkpoints name modules after PyTorch's attributes and cmod after {@code let}
 * bindings, so the two often agree; where they do not, the user writes the rule once per pattern.
 */
final class KeyMap {
  private record Rule(String hf, Pattern cmod) {}

  private final List<Rule> rules;
  private final Collection<String> modules;
  private final Span span;
  private final Map<String, String> claimedBy = new HashMap<>();
  private final Map<String, java.util.function.Predicate<String>> seen = new java.util.TreeMap<>();

  private KeyMap(List<Rule> rules, Collection<String> modules, Span span) {
    this.rules = rules;
    this.modules = modules;
    this.span = span;
  }

  /** The key map of {@code map = [...]} (or {@code null}: automatic only) over {@code modules}. */
  static KeyMap of(Val map, Span mapSpan, Collection<String> modules, Span span, ElabContext el) {
    List<Rule> rules = new ArrayList<>();
    if (map != null) {
      if (!(map instanceof ListV l)) {
        badMap(mapSpan, "map must be a list of pairs, got " + Val.describe(map), el);
        return null;
      }
      for (Val item : l.items()) {
        if (!(item instanceof ListV pair)
            || pair.items().size() != 2
            || !(pair.items().get(0) instanceof StrV hf)
            || !(pair.items().get(1) instanceof StrV cm)) {
          badMap(mapSpan, "each entry of map is a pair [\"hf.module.*\", \"cmod.path.*\"]", el);
          return null;
        }
        int stars = count(hf.value());
        if (stars != count(cm.value()) || hf.value().contains("**") || cm.value().contains("**")) {
          badMap(
              mapSpan,
              "[\""
                  + hf.value()
                  + "\", \""
                  + cm.value()
                  + "\"]: both sides need the same number of '*' (one path segment each)",
              el);
          return null;
        }
        rules.add(new Rule(hf.value(), capture(cm.value())));
      }
    }
    return new KeyMap(rules, modules, span);
  }

  private static void badMap(Span span, String message, ElabContext el) {
    el.fail(
        DiagnosticCode.KEY_MAP,
        span,
        message,
        "write map = [[\"encoder.layer.*.attention.self.query\", \"blocks.*.attn.q\"]]");
  }

  private static int count(String s) {
    return (int) s.chars().filter(c -> c == '*').count();
  }

  private static Pattern capture(String glob) {
    List<String> parts = new ArrayList<>();
    for (String part : glob.split("\\*", -1)) {
      parts.add(Pattern.quote(part));
    }
    return Pattern.compile(String.join("([^.]+)", parts));
  }

  /**
   * The checkpoint module for cmod path {@code owner}, or null; among several modules whose names
   * fit, the one whose tensors {@code fits} the layer. A module that two cmod paths would take, or
   * two modules that one would, is an error ({@code CM0313}) asking for a written rule.
   */
  String resolve(String owner, java.util.function.Predicate<String> fits, ElabContext el) {
    seen.putIfAbsent(owner, fits);
    String found = null;
    for (Rule r : rules) {
      Matcher m = r.cmod().matcher(owner);
      if (m.matches()) {
        StringBuilder hf = new StringBuilder();
        int g = 1;
        for (char c : r.hf().toCharArray()) {
          if (c == '*') {
            hf.append(m.group(g++));
          } else {
            hf.append(c);
          }
        }
        found = hf.toString();
        break;
      }
    }
    if (found == null) {
      List<String> hits = new ArrayList<>();
      for (String mod : modules) {
        if (mod.equals(owner) || mod.endsWith("." + owner)) {
          hits.add(mod);
        }
      }
      if (hits.size() > 1) {
        // by shape: the one module whose tensors fit the layer
        List<String> fitting = hits.stream().filter(fits).toList();
        if (fitting.size() == 1) {
          hits = fitting;
        }
      }
      if (hits.size() > 1) {
        el.fail(
            DiagnosticCode.KEY_AMBIGUOUS,
            span,
            "the cmod layer '"
                + owner
                + "' could be any of the checkpoint's modules "
                + String.join(", ", hits.subList(0, Math.min(4, hits.size()))),
            "say which in map = [[\"" + hits.get(0) + "\", \"" + owner + "\"]]");
      }
      found = hits.isEmpty() ? null : hits.get(0);
    }
    if (found == null || !modules.contains(found)) {
      return null;
    }
    String other = claimedBy.putIfAbsent(found, owner);
    if (other != null && !other.equals(owner)) {
      el.fail(
          DiagnosticCode.KEY_AMBIGUOUS,
          span,
          "the checkpoint's module '"
              + found
              + "' would set both '"
              + other
              + "' and '"
              + owner
              + "'",
          "say which in map = [[\"" + found + "\", \"" + other + "\"]]");
    }
    return found;
  }

  /**
   * After the first application: every module of the checkpoint that set no cmod path is an error
   * ({@code CM0311}) naming the closest cmod paths.
   */
  void checkAllClaimed(String what, ElabContext el) {
    for (String mod : modules) {
      if (claimedBy.containsKey(mod)) {
        continue;
      }
      // layers the module's tensors fit first, then by name
      List<String> near = new ArrayList<>(seen.keySet());
      near.sort(
          Comparator.comparingInt((String s) -> seen.get(s).test(mod) ? 0 : 1)
              .thenComparingInt(s -> Suggest.distance(mod, s))
              .thenComparing(s -> s));
      el.diags()
          .error(
              DiagnosticCode.KEY_UNMATCHED,
              span,
              what + " module '" + mod + "' matches no layer of the base",
              near.isEmpty()
                  ? "the base has no layers this checkpoint could set"
                  : "closest cmod paths: "
                      + String.join(", ", near.subList(0, Math.min(3, near.size())))
                      + "; map it with map = [[\""
                      + mod
                      + "\", \""
                      + near.get(0)
                      + "\"]]");
    }
  }
}
