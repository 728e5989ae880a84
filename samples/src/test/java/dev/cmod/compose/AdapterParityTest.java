package dev.cmod.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bottleneck adapters ({@code base with adapter(bottleneck, at = after | parallel, name = "...") on
 * P}, language.md section 5) against PyTorch: trained (non-zero) down/up weights and biases; at =
 * after adds up(relu(down(y))) to the targeted instance's result y, at = parallel adds
 * up(relu(down(x))) of its input x; on a TransformerBlock's ffn and attn, named and unnamed, two
 * instances at once, two stacked adapters, and on a repeat stack with {@code "*.ffn"}.
 */
@Requires(Need.TORCH)
class AdapterParityTest {
  @TempDir static Path out;

  @BeforeAll
  static void generate() {
    PyParity.COMPOSE.generate(out, "adapter_block", "adapter_stack");
  }

  @Test
  void adaptersOnTheFfnAndAttnOfABlock() {
    PyParity.COMPOSE.checkCase("adapter_block", out);
  }

  @Test
  void adaptersOnARepeatStack() {
    PyParity.COMPOSE.checkCase("adapter_stack", out);
  }

  /**
   * Parameter groups {@code <instance>.<name>.{down,up}.{weight,bias}}: the name, else "adapter",
   * then "adapter1" for the second unnamed adapter on an instance; down [in, b] (in = the input's
   * features for parallel), up [b, out]. A composition applied again (stacked) reuses its group.
   */
  @Test
  void parameterGroupsAndShapes() {
    Compilation.Result r =
        PyParity.compile(
            PyParity.COMPOSE.resource("adapter_block.cmod"), null, 0, 0, "adapter_block");
    Map<String, Tensor> p = PyParity.paramValues(r.graph());
    TreeSet<String> groups = new TreeSet<>();
    for (String k : p.keySet()) {
      if (k.endsWith(".down.weight") && !k.equals("blk.ffn.down.weight")) {
        groups.add(k.substring(0, k.length() - ".down.weight".length()));
      }
    }
    assertEquals(
        new TreeSet<>(
            Set.of(
                "blk.ffn.adapter",
                "blk.ffn.par",
                "blk.attn.post",
                "blk.attn.adapter",
                "blk.attn.adapter1",
                "blk.ffn.adapter1",
                "blk.ffn.task")),
        groups);
    Map<String, Long> bottleneck =
        Map.of(
            "blk.ffn.adapter",
            4L,
            "blk.ffn.par",
            6L,
            "blk.attn.post",
            3L,
            "blk.attn.adapter",
            5L,
            "blk.attn.adapter1",
            2L,
            "blk.ffn.adapter1",
            2L,
            "blk.ffn.task",
            4L);
    for (Map.Entry<String, Long> e : bottleneck.entrySet()) {
      String g = e.getKey();
      long b = e.getValue();
      assertEquals(List.of(16L, b), PyParity.shape(p.get(g + ".down.weight")), g);
      assertEquals(List.of(b), PyParity.shape(p.get(g + ".down.bias")), g);
      assertEquals(List.of(b, 16L), PyParity.shape(p.get(g + ".up.weight")), g);
      assertEquals(List.of(16L), PyParity.shape(p.get(g + ".up.bias")), g);
      // down: xavier (random), up and both biases: zeros
      assertTrue(
          PyParity.maxAbs(p.get(g + ".down.weight")) > 0, g + ".down.weight must start random");
      assertEquals(
          0.0, PyParity.maxAbs(p.get(g + ".up.weight")), g + ".up.weight must start at zeros");
      assertEquals(
          0.0,
          PyParity.maxAbs(p.get(g + ".down.bias")) + PyParity.maxAbs(p.get(g + ".up.bias")),
          g + " biases");
    }
    assertEquals(
        16 + 4 * 7, p.size(), "16 parameters of the block and 4 per adapter group: " + p.keySet());
  }

  /**
   * A fresh adapter (no trained weights: up starts at zero) leaves every output exactly the base's,
   * and the base's output is PyTorch's; the trained adapters really change the outputs.
   */
  @Test
  void freshAdaptersLeaveTheBlockUnchanged(@TempDir Path tmp) {
    Path caseDir = out.resolve("adapter_block");
    Path weights = tmp.resolve("base_only.safetensors");
    Set<String> dropped =
        PyParity.writeWithout(
            caseDir,
            k -> !k.matches("blk\\.(ln[12]|attn\\.[qkvo]|ffn\\.(up|down))\\.[a-z]+"),
            weights);
    assertEquals(28, dropped.size(), "7 adapter groups of 4 parameters: " + dropped);
    Path cmod = PyParity.COMPOSE.resource("adapter_block.cmod");
    for (PyParity.Run run : PyParity.COMPOSE.runs(caseDir)) {
      for (int level : PyParity.LEVELS) {
        Map<String, Tensor> got = PyParity.outputs(cmod, weights, 0, level, run.inputs());
        String at = "fresh adapters -O" + level + " " + run.describe();
        E2E.assertClose(
            run.expected().get("base_y"),
            got.get("base_y"),
            PyParity.COMPOSE.rtol(),
            PyParity.COMPOSE.atol(),
            at + " base_y vs PyTorch");
        for (String k : got.keySet()) {
          assertTrue(
              PyParity.bitwiseEqual(got.get("base_y"), got.get(k)),
              at
                  + ": "
                  + k
                  + " differs from base_y by "
                  + PyParity.maxAbsDiff(got.get("base_y"), got.get(k)));
          if (!k.equals("base_y")) {
            assertTrue(
                PyParity.maxAbsDiff(run.expected().get(k), run.expected().get("base_y")) > 0.05,
                at + ": " + k + " is vacuous");
          }
        }
      }
    }
    assertThrows(
        AssertionError.class,
        () ->
            PyParity.COMPOSE.check("adapter_block (fresh)", cmod, weights, caseDir, dropped, null));
  }

  /**
   * Harness sanity: the "after" and "parallel" adapters of the ffn swapped (same shapes) must fail
   * the comparison.
   */
  @Test
  void swappedPlacementIsCaught(@TempDir Path tmp) throws IOException {
    Path src = out.resolve("adapter_stack");
    Path dir = tmp.resolve("swapped");
    PyParity.copyRuns(src, dir);
    Map<String, Tensor> w = new TreeMap<>(Safetensors.read(src.resolve("weights.safetensors")));
    Map<String, Tensor> swapped = new TreeMap<>();
    for (Map.Entry<String, Tensor> e : w.entrySet()) {
      String k = e.getKey();
      swapped.put(
          k.contains(".ffn.adapter.")
              ? k.replace(".ffn.adapter.", ".ffn.p.")
              : k.contains(".ffn.p.") ? k.replace(".ffn.p.", ".ffn.adapter.") : k,
          e.getValue());
    }
    Safetensors.write(dir.resolve("weights.safetensors"), swapped, null);
    assertThrows(
        AssertionError.class,
        () ->
            PyParity.COMPOSE.check(
                "adapter_stack (swapped)", PyParity.COMPOSE.resource("adapter_stack.cmod"), dir));
  }

  /**
   * An adapter whose name equals a child of the targeted instance: {@code blocks with
   * adapter(bottleneck = 4, name = "ffn") on "0"} puts its group at blocks.0.ffn, so its {@code
   * blocks.0.ffn.down.weight} [16, 4] collides with the block's own Mlp weight [64, 16] and the
   * compile fails with an internal error (CM0900 "the IR failed verification: ... param path
   * 'blocks.0.ffn.down.weight' is also used by ... (this is a bug in cmod)"). Expected: a located
   * error at the name (or a unique group name).
   */
  @Test
  void adapterNameClashingWithAChild(@TempDir Path tmp) throws IOException {
    String src =
        "import std.nn.{TransformerBlock}\n\nmodel B {\n  input x: f32[seq, 16]\n  let blocks = repeat(2) TransformerBlock(16, 2)\n"
            + "  let t = blocks with adapter(bottleneck = 4, name = \"ffn\") on \"0\"\n  output y: f32[seq, 16] = t(x)\n}\n";
    Compilation.Result r = compileSource(tmp, "adapter_name_clash.cmod", src);
    assertTrue(
        r.diagnostics().all().stream().noneMatch(d -> d.code() == DiagnosticCode.INTERNAL),
        PyParity.render(r));
  }

  /**
   * An instance called with its tensor argument by name ({@code ffn(x = x)}) is not adapted: the
   * adapter is silently skipped and the compile fails with CM0100 '"ffn" matches no layer of blk'
   * (help: "closest paths in blk: ffn.up, ffn.down"). Expected: the adapter applies to the
   * instance's first tensor argument however it is passed.
   */
  @Test
  void adapterOnAnInstanceCalledByName(@TempDir Path tmp) throws IOException {
    String src =
        "import std.nn.{Mlp}\n\nmodule Blk(d: int)(x: f32[b, s, d]) -> f32[b, s, d] {\n  let ffn = Mlp(d)\n  x + ffn(x = x)\n}\n\n"
            + "model B {\n  input x: f32[seq, 16]\n  let blk = Blk(16)\n  let t = blk with adapter(bottleneck = 4) on \"ffn\"\n"
            + "  output y: f32[seq, 16] = t(x)\n}\n";
    Compilation.Result r = compileSource(tmp, "adapter_named_arg.cmod", src);
    assertTrue(r.ok(), PyParity.render(r));
  }

  static Compilation.Result compileSource(Path dir, String name, String src) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, src);
    return Compilation.compile(f, CompileOptions.defaults().withOptLevel(0));
  }
}
