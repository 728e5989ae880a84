"""The PyTorch side of the encoder benchmark (docs/benchmarks.md): the model of encoder_d256.cmod
written in PyTorch (4 pre-norm nn.TransformerEncoderLayer, d=256, 4 heads, hidden 1024, exact GELU,
a final LayerNorm), seeded, exported with torch.onnx.export (opset 17, dynamic batch and seq), and
its weights written under cmod's parameter paths, so `cmod compile --weights` builds the same
model.

With --adapters B, every layer gets a bottleneck adapter of width B after its feed-forward network
(x + up(relu(down(x))) on the FFN's output, Houlsby's placement), the model of adapters_d256.cmod.

usage: /usr/bin/python3 encoder_torch_export.py OUT.onnx WEIGHTS.safetensors [--adapters B]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "samples", "src", "test", "python"))
import parity_common as pc  # noqa: E402


class Adapter(torch.nn.Module):
    def __init__(self, dim, bottleneck):
        super().__init__()
        self.down = torch.nn.Linear(dim, bottleneck)
        self.up = torch.nn.Linear(bottleneck, dim)

    def forward(self, x):
        return x + self.up(torch.relu(self.down(x)))


class AdaptedLayer(torch.nn.TransformerEncoderLayer):
    """A pre-norm encoder layer whose feed-forward block ends in a bottleneck adapter."""

    def __init__(self, bottleneck):
        super().__init__(256, 4, 1024, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        self.adapter = Adapter(256, bottleneck)

    def _ff_block(self, x):
        return self.adapter(super()._ff_block(x))


class Encoder(torch.nn.Module):
    def __init__(self, bottleneck=0):
        super().__init__()
        self.blocks = torch.nn.ModuleList(
            [AdaptedLayer(bottleneck) if bottleneck else pc.block(256, 4, 1024) for _ in range(4)])
        self.norm = torch.nn.LayerNorm(256)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.norm(x)


def main(out, weights, bottleneck=0):
    torch.manual_seed(0)
    m = Encoder(bottleneck).eval()
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.05)
    w = {}
    for i, b in enumerate(m.blocks):
        w.update(pc.conv_block("blocks.%d" % i, b))
        if bottleneck:
            w.update(pc.conv_linear("blocks.%d.ffn.adapter.down" % i, b.adapter.down))
            w.update(pc.conv_linear("blocks.%d.ffn.adapter.up" % i, b.adapter.up))
    w.update(pc.conv_layernorm("norm", m.norm))
    pc.write_safetensors(weights, {k: v.detach().contiguous() for k, v in w.items()})
    x = torch.randn(1, 128, 256)
    # with gradients on, the layers take their plain path (the fused inference kernel
    # aten::_transformer_encoder_layer_fwd has no ONNX export)
    torch.onnx.export(m, (x,), out, opset_version=17, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--adapters" else 0)
