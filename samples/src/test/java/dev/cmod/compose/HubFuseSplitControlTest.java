package dev.cmod.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.ParityCase;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The AdapterHub blocks {@code base with fuse(a, b)} and {@code base with split(a, b, at = n)}
 * (language.md section 5) and ControlNet-style {@code condition gen on c via control(strength = s)}
 * (section 7) against PyTorch, every parameter trained (non-zero):
 *
 * <ul>
 *   <li>{@code with_fuse_split}: a TransformerBlock with an "after" adapter de and a "parallel"
 *       adapter ner on ffn; fuse(de, ner) ({@code blk.ffn.fusion}) and fuse(ner, de) ({@code
 *       blk.ffn.fusion1}) as AdapterHub's fusion (query from the ffn's output, keys and values from
 *       the members' outputs), split(de, ner, at = 2) and split(ner, de, at = 3) (one run has
 *       exactly 3 positions, so the second member gets none);
 *   <li>{@code via_control_image}: a Conv2d on images of symbolic size with two control branches
 *       (1x1 convolutions {@code gen.control} at 0.5 and {@code gen.control1} at 2.0), applied
 *       twice;
 *   <li>{@code via_control_seq}: an Mlp on a sequence with a linear control branch {@code
 *       mlp.control}.
 * </ul>
 */
@Requires(Need.TORCH)
class HubFuseSplitControlTest {
  /**
   * The blocks reuse the members' parameters; each fusion block has its own query, key and value
   * [d, d].
   */
  @Test
  void fuseAndSplitParameters() {
    Map<String, Tensor> p = ParityCase.named("with_fuse_split").declared();
    TreeSet<String> extra = new TreeSet<>();
    for (String k : p.keySet()) {
      if (!k.matches("blk\\.(ln[12]|attn\\.[qkvo]|ffn\\.(up|down))\\.[a-z]+")) {
        extra.add(k);
      }
    }
    assertEquals(
        new TreeSet<>(
            List.of(
                "blk.ffn.de.down.weight",
                "blk.ffn.de.down.bias",
                "blk.ffn.de.up.weight",
                "blk.ffn.de.up.bias",
                "blk.ffn.ner.down.weight",
                "blk.ffn.ner.down.bias",
                "blk.ffn.ner.up.weight",
                "blk.ffn.ner.up.bias",
                "blk.ffn.fusion.query",
                "blk.ffn.fusion.key",
                "blk.ffn.fusion.value",
                "blk.ffn.fusion1.query",
                "blk.ffn.fusion1.key",
                "blk.ffn.fusion1.value")),
        extra);
    for (String f : new String[] {"fusion", "fusion1"}) {
      for (String n : new String[] {"query", "key", "value"}) {
        assertEquals(
            List.of(16L, 16L), PyParity.shape(p.get("blk.ffn." + f + "." + n)), f + "." + n);
      }
    }
    assertEquals(List.of(16L, 6L), PyParity.shape(p.get("blk.ffn.ner.down.weight")));
  }

  /**
   * Control branches: 1x1 convolutions [Cout, Cc, 1, 1] on images, a linear map [dc, dy] otherwise.
   */
  @Test
  void controlParameters() {
    Map<String, Tensor> img = ParityCase.named("via_control_image").declared();
    assertEquals(
        new TreeSet<>(
            List.of(
                "gen.weight",
                "gen.bias",
                "gen.control.weight",
                "gen.control.bias",
                "gen.control1.weight",
                "gen.control1.bias")),
        new TreeSet<>(img.keySet()));
    assertEquals(List.of(4L, 2L, 1L, 1L), PyParity.shape(img.get("gen.control.weight")));
    assertEquals(List.of(4L, 1L, 1L, 1L), PyParity.shape(img.get("gen.control1.weight")));
    assertEquals(List.of(4L), PyParity.shape(img.get("gen.control.bias")));
    Map<String, Tensor> seq = ParityCase.named("via_control_seq").declared();
    assertEquals(List.of(4L, 8L), PyParity.shape(seq.get("mlp.control.weight")));
    assertEquals(List.of(8L), PyParity.shape(seq.get("mlp.control.bias")));
  }
}
