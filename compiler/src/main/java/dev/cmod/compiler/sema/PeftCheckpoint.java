package dev.cmod.compiler.sema;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.cmod.ir.io.SafeFiles;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A PEFT adapter checkpoint ({@code adapter_config.json} beside {@code adapter_model.safetensors})
 * read into what a cmod composition needs: the method (LoRA or IA³), its scaling, and the tensors
 * of each adapted Hugging Face module. Read once by the loader, so a bad config is reported at the
 * {@code import weights} that names it, before any model is elaborated.
 *
 * @param kind "lora" or "ia3"
 * @param rank LoRA's {@code r} (0 for IA³)
 * @param scale LoRA's factor scale: {@code lora_alpha / r}, or {@code lora_alpha / sqrt(r)} with
 *     {@code use_rslora}
 * @param modules per Hugging Face module path (the key without {@code base_model.model.} and the
 *     tensor suffix), its tensors by role: {@code A} [r, in] and {@code B} [out, r] for LoRA,
 *     {@code l} for IA³ ([out, 1], or [1, in] for a feed-forward module)
 * @param feedforward the IA³ modules whose input (not output) PEFT scales
 */
record PeftCheckpoint(
    String kind,
    long rank,
    double scale,
    Map<String, Map<String, Tensor>> modules,
    java.util.Set<String> feedforward) {

  /** A checkpoint that cmod cannot read as PEFT wrote it; the message says what is wrong. */
  static final class BadCheckpoint extends Exception {
    BadCheckpoint(String message) {
      super(message);
    }
  }

  private static final String PREFIX = "base_model.model.";
  private static final long MAX_CONFIG_BYTES = 1 << 20;

  /**
   * Whether {@code p} names a PEFT checkpoint: a folder, or a file named {@code
   * adapter_model.safetensors} (its config must be beside it).
   */
  static boolean isCheckpoint(Path p) {
    return Files.isDirectory(p)
        || (p.getFileName() != null
            && p.getFileName().toString().equals("adapter_model.safetensors"));
  }

  /** Reads the checkpoint in folder {@code p}, or beside the file {@code p}. */
  static PeftCheckpoint read(Path p) throws BadCheckpoint {
    Path dir = Files.isDirectory(p) ? p : p.toAbsolutePath().getParent();
    Path config = dir.resolve("adapter_config.json");
    Path model = dir.resolve("adapter_model.safetensors");
    JsonObject c;
    try {
      String text =
          new String(
              SafeFiles.readAll(config, SafeFiles.Policy.MODEL, MAX_CONFIG_BYTES),
              StandardCharsets.UTF_8);
      JsonElement e = JsonParser.parseString(text);
      if (!e.isJsonObject()) {
        throw new BadCheckpoint("adapter_config.json is not a JSON object");
      }
      c = e.getAsJsonObject();
    } catch (java.nio.file.NoSuchFileException e) {
      throw new BadCheckpoint(
          "no adapter_config.json in " + dir.getFileName() + " (PEFT saves it beside the weights)");
    } catch (IOException e) {
      throw new BadCheckpoint("cannot read adapter_config.json: " + SafeFiles.describe(e));
    } catch (com.google.gson.JsonParseException e) {
      throw new BadCheckpoint("adapter_config.json is not valid JSON: " + e.getMessage());
    }
    Map<String, Tensor> tensors;
    try {
      tensors = Safetensors.read(model, SafeFiles.Policy.MODEL);
    } catch (RuntimeException e) {
      throw new BadCheckpoint("adapter_model.safetensors: " + e.getMessage());
    }
    String type = string(c, "peft_type", "LORA").toUpperCase(Locale.ROOT);
    if (type.equals("LORA")) {
      return lora(c, tensors);
    } else if (type.equals("IA3")) {
      return ia3(c, tensors);
    }
    throw new BadCheckpoint(
        "peft_type \"" + type + "\" is not supported; cmod imports LORA and IA3 adapters");
  }

  private static PeftCheckpoint lora(JsonObject c, Map<String, Tensor> tensors)
      throws BadCheckpoint {
    long r = positiveInt(c, "r");
    double alpha = number(c, "lora_alpha");
    boolean rslora = bool(c, "use_rslora");
    bool(c, "fan_in_fan_out"); // the factors' layout is the same either way: B @ A is [out, in]
    if (bool(c, "use_dora")) {
      throw new BadCheckpoint("use_dora: DoRA's magnitude vectors are not supported");
    }
    for (String k : List.of("rank_pattern", "alpha_pattern")) {
      if (c.has(k) && c.get(k).isJsonObject() && !c.getAsJsonObject(k).isEmpty()) {
        throw new BadCheckpoint(k + ": per-module ranks or alphas are not supported");
      }
    }
    checkCommon(c);
    Map<String, Map<String, Tensor>> modules = new TreeMap<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      String key = e.getKey();
      String role =
          key.endsWith(".lora_A.weight") ? "A" : key.endsWith(".lora_B.weight") ? "B" : "";
      String module = module(key, role.isEmpty() ? null : key.length() - ".lora_A.weight".length());
      modules.computeIfAbsent(module, m -> new LinkedHashMap<>()).put(role, e.getValue());
      Tensor t = e.getValue();
      if (t.rank() != 2 || !t.isFloat()) {
        throw new BadCheckpoint("'" + key + "' is " + describe(t) + ", a LoRA factor is 2-D");
      }
      long rank = role.equals("A") ? t.shape()[0] : t.shape()[1];
      if (rank != r) {
        throw new BadCheckpoint("'" + key + "' has rank " + rank + " but the config says r = " + r);
      }
    }
    for (Map.Entry<String, Map<String, Tensor>> m : modules.entrySet()) {
      if (m.getValue().size() != 2) {
        throw new BadCheckpoint(
            "module '"
                + m.getKey()
                + "' has only lora_"
                + m.getValue().keySet().iterator().next()
                + "; PEFT saves lora_A and lora_B");
      }
    }
    double scale = rslora ? alpha / Math.sqrt(r) : alpha / r;
    return new PeftCheckpoint("lora", r, scale, modules, java.util.Set.of());
  }

  private static PeftCheckpoint ia3(JsonObject c, Map<String, Tensor> tensors)
      throws BadCheckpoint {
    checkCommon(c);
    Map<String, Map<String, Tensor>> modules = new TreeMap<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      String key = e.getKey();
      boolean l = key.endsWith(".ia3_l.weight");
      String module = module(key, l ? key.length() - ".ia3_l.weight".length() : null);
      Tensor t = e.getValue();
      if (t.rank() != 2 || !t.isFloat() || (t.shape()[0] != 1 && t.shape()[1] != 1)) {
        throw new BadCheckpoint(
            "'" + key + "' is " + describe(t) + ", an IA3 vector is [out, 1] or [1, in]");
      }
      modules.computeIfAbsent(module, m -> new LinkedHashMap<>()).put("l", t);
    }
    java.util.Set<String> ff = new java.util.TreeSet<>();
    JsonElement f = c.get("feedforward_modules");
    for (String m : modules.keySet()) {
      if (f != null && !f.isJsonNull() && targets(f, m, "feedforward_modules")) {
        ff.add(m);
      }
    }
    for (String m : modules.keySet()) {
      long[] s = modules.get(m).get("l").shape();
      boolean asFf = ff.contains(m);
      if (asFf ? s[0] != 1 : s[1] != 1) {
        throw new BadCheckpoint(
            "module '"
                + m
                + "' is "
                + (asFf ? "" : "not ")
                + "in feedforward_modules, so its ia3_l should be "
                + (asFf ? "[1, in]" : "[out, 1]")
                + ", got "
                + java.util.Arrays.toString(s));
      }
    }
    return new PeftCheckpoint("ia3", 0, 1, modules, ff);
  }

  /** The config fields both methods read: targets, biases, saved modules. */
  private static void checkCommon(JsonObject c) throws BadCheckpoint {
    JsonElement t = c.get("target_modules");
    if (t == null
        || t.isJsonNull()
        || !(t.isJsonArray() || (t.isJsonPrimitive() && t.getAsJsonPrimitive().isString()))) {
      throw new BadCheckpoint("target_modules must be a list of module names or a regex string");
    }
    String bias = string(c, "bias", "none");
    if (!bias.equals("none")) {
      throw new BadCheckpoint(
          "bias = \""
              + bias
              + "\": adapters that train the base's biases are not supported (only bias = \"none\")");
    }
    JsonElement save = c.get("modules_to_save");
    if (save != null && save.isJsonArray() && !save.getAsJsonArray().isEmpty()) {
      throw new BadCheckpoint(
          "modules_to_save: fully saved modules are not supported; import them with"
              + " `with weights(...)`");
    }
  }

  /**
   * Whether PEFT's target spec {@code spec} (a list of names, each matching a module path that ends
   * with it, or a regex string matching the whole path) selects module {@code m}.
   */
  private static boolean targets(JsonElement spec, String m, String field) throws BadCheckpoint {
    if (spec.isJsonPrimitive() && spec.getAsJsonPrimitive().isString()) {
      try {
        return java.util.regex.Pattern.compile(spec.getAsString()).matcher(m).matches();
      } catch (java.util.regex.PatternSyntaxException e) {
        throw new BadCheckpoint(field + " is not a valid regex: " + e.getDescription());
      }
    }
    if (!spec.isJsonArray()) {
      throw new BadCheckpoint(field + " must be a list of module names or a regex string");
    }
    for (JsonElement e : spec.getAsJsonArray()) {
      if (!e.isJsonPrimitive()) {
        throw new BadCheckpoint(field + " must list module names as strings");
      }
      String name = e.getAsString();
      if (m.equals(name) || m.endsWith("." + name)) {
        return true;
      }
    }
    return false;
  }

  private static String module(String key, Integer end) throws BadCheckpoint {
    if (end == null || !key.startsWith(PREFIX) || end <= PREFIX.length()) {
      throw new BadCheckpoint(
          "unexpected key '"
              + key
              + "'; a PEFT checkpoint holds base_model.model.<module>.lora_A.weight /"
              + " .lora_B.weight (LoRA) or .ia3_l.weight (IA3)");
    }
    return key.substring(PREFIX.length(), end);
  }

  private static String describe(Tensor t) {
    return t.dtype().name().toLowerCase(Locale.ROOT) + java.util.Arrays.toString(t.shape());
  }

  private static String string(JsonObject c, String k, String dflt) throws BadCheckpoint {
    JsonElement e = c.get(k);
    if (e == null || e.isJsonNull()) {
      return dflt;
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new BadCheckpoint(k + " must be a string");
    }
    return e.getAsString();
  }

  private static boolean bool(JsonObject c, String k) throws BadCheckpoint {
    JsonElement e = c.get(k);
    if (e == null || e.isJsonNull()) {
      return false;
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
      throw new BadCheckpoint(k + " must be true or false");
    }
    return e.getAsBoolean();
  }

  private static double number(JsonObject c, String k) throws BadCheckpoint {
    JsonElement e = c.get(k);
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw new BadCheckpoint(k + " must be a number");
    }
    double d = e.getAsDouble();
    if (!Double.isFinite(d)) {
      throw new BadCheckpoint(k + " must be finite");
    }
    return d;
  }

  private static long positiveInt(JsonObject c, String k) throws BadCheckpoint {
    double d = number(c, k);
    if (d != Math.rint(d) || d < 1 || d > Integer.MAX_VALUE) {
      throw new BadCheckpoint(k + " must be a positive integer, got " + c.get(k));
    }
    return (long) d;
  }
}
