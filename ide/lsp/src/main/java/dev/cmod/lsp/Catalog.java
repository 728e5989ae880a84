package dev.cmod.lsp;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the editor offers besides diagnostics: keywords, builtin signatures, std library modules.
 * The builtin table mirrors the compiler's {@code sema.Builtins} (a test checks the names agree).
 */
final class Catalog {
  /** The keywords of CmodLexer.g4, in its order (a test checks they agree). */
  static final List<String> KEYWORDS =
      List.of(
          "import",
          "const",
          "module",
          "model",
          "param",
          "let",
          "return",
          "if",
          "then",
          "else",
          "repeat",
          "input",
          "output",
          "where",
          "with",
          "on",
          "from",
          "to",
          "by",
          "route",
          "as",
          "weights",
          "onnx",
          "compute",
          "budget",
          "constraint",
          "align",
          "condition",
          "via",
          "frozen",
          "trainable",
          "vocab",
          "true",
          "false",
          "none");

  /** Modality types, element types and hyperparameter types. */
  static final List<String> TYPES =
      List.of(
          "Image", "Audio", "Video", "Text", "Class", "Vector", "Seq", "f32", "f16", "bf16", "f64",
          "i64", "i32", "bool", "int", "float", "string", "dtype");

  /** The stdlib libraries (resources std/NAME.cmod, from cmod-stdlib). */
  static final List<String> STD_LIBRARIES = List.of("nn", "peft", "route", "compose");

  /** Builtin name to its signature as written in calls ("softmax(x, axis = -1)"). */
  static final Map<String, String> BUILTINS = new LinkedHashMap<>();

  static {
    for (String u :
        List.of("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "silu", "erf")) {
      sig(u, "x");
    }
    sig("gelu", "x", "approx=none");
    sig("pow", "x", "p");
    sig("maximum", "a", "b");
    sig("minimum", "a", "b");
    sig("where", "cond", "a", "b");
    sig("matmul", "a", "b");
    sig("reshape", "x", "shape");
    sig("transpose", "x", "perm");
    sig("flatten", "x", "axis=1");
    sig("concat", "xs", "axis=-1");
    sig("split", "x", "sizes", "axis=-1");
    sig("slice", "x", "axis", "start", "end");
    sig("unsqueeze", "x", "axis");
    sig("squeeze", "x", "axis");
    sig("broadcast", "x", "dims");
    for (String r : List.of("sum", "mean", "max", "min")) {
      sig(r, "x", "axis=all", "keep=false");
    }
    sig("argmax", "x", "axis=-1", "keep=false");
    sig("softmax", "x", "axis=-1");
    sig("log_softmax", "x", "axis=-1");
    sig("layer_norm", "x", "gamma", "beta", "eps=1e-5");
    sig("rms_norm", "x", "gamma", "eps=1e-6");
    sig("attention", "q", "k", "v", "mask=none", "causal=false");
    sig("conv1d", "x", "w", "b=none", "stride=1", "padding=0");
    sig("conv2d", "x", "w", "b=none", "stride=1", "padding=0");
    sig("avg_pool2d", "x", "k", "stride=k");
    sig("max_pool2d", "x", "k", "stride=k");
    sig("upsample", "x", "factor");
    sig("patchify", "x", "p");
    sig("take", "table", "ids");
    sig("one_hot", "ids", "n");
    sig("cosine", "a", "b", "axis=-1");
    sig("topk", "x", "k", "axis=-1");
    sig("cast", "x", "dtype");
    sig("weighted", "xs", "w");
    sig("tokens", "x");
    sig("fuse", "x", "modules");
    sig("auto", "inputs...");
  }

  private static void sig(String name, String... params) {
    StringBuilder sb = new StringBuilder(name).append('(');
    for (int i = 0; i < params.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(params[i].replace("=", " = "));
    }
    BUILTINS.put(name, sb.append(')').toString());
  }

  /** A module of the standard library: its library ("std.nn") and its header line. */
  record StdModule(String name, String library, String signature) {}

  private static final Pattern MODULE =
      Pattern.compile("(?m)^[ \\t]*module[ \\t]+([A-Za-z_][A-Za-z0-9_]*)([^{\\r\\n]*)");
  private static Map<String, StdModule> stdModules;

  private Catalog() {}

  /** Module name to module, read once from the std/*.cmod resources on the class path. */
  static synchronized Map<String, StdModule> stdModules() {
    if (stdModules == null) {
      Map<String, StdModule> m = new LinkedHashMap<>();
      for (String lib : STD_LIBRARIES) {
        try (InputStream in =
            Catalog.class.getClassLoader().getResourceAsStream("std/" + lib + ".cmod")) {
          if (in == null) {
            continue;
          }
          Matcher mt = MODULE.matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
          while (mt.find()) {
            String name = mt.group(1);
            m.putIfAbsent(
                name, new StdModule(name, "std." + lib, ("module " + name + mt.group(2)).strip()));
          }
        } catch (IOException e) {
          System.err.println("cmod-lsp: cannot read std/" + lib + ".cmod: " + e.getMessage());
        }
      }
      stdModules = m;
    }
    return stdModules;
  }
}
