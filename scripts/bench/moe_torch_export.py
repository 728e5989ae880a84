"""The PyTorch side of scripts/bench/SparseRoutingBench.java: the top-2-of-8 mixture of experts of
moe_top2_of_8.cmod written in PyTorch with the usual sparse dispatch (per expert: the tokens that
chose it, the expert on those rows, index_add_ of the weighted rows), loaded with the weights cmod
exported (safetensors, read here without the safetensors package) and exported with
torch.onnx.export, input x [batch, seq, 256] and output y with dynamic batch and seq.

usage: /usr/bin/python3 moe_torch_export.py WEIGHTS.safetensors OUT.onnx
"""
import json
import struct
import sys

import numpy as np
import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(
            np.frombuffer(data[a:b], dtype=np.float32).reshape(info["shape"]).copy())
    return out


class Moe(torch.nn.Module):
    def __init__(self, w, experts=8, k=2):
        super().__init__()
        self.k = k
        self.router = torch.nn.Parameter(w["Router_0.weight"])
        self.up = torch.nn.ParameterList(
            [torch.nn.Parameter(w[f"experts.{e}.up.weight"]) for e in range(experts)])
        self.up_b = torch.nn.ParameterList(
            [torch.nn.Parameter(w[f"experts.{e}.up.bias"]) for e in range(experts)])
        self.down = torch.nn.ParameterList(
            [torch.nn.Parameter(w[f"experts.{e}.down.weight"]) for e in range(experts)])
        self.down_b = torch.nn.ParameterList(
            [torch.nn.Parameter(w[f"experts.{e}.down.bias"]) for e in range(experts)])

    def forward(self, x):
        shape = x.shape
        h = x.reshape(-1, shape[-1])
        p = torch.softmax(h @ self.router, dim=-1)
        vals, idx = torch.topk(p, self.k, dim=-1)
        vals = vals / vals.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(h)
        for e in range(len(self.up)):
            hit = idx == e
            rows = torch.nonzero(hit.any(dim=-1)).squeeze(-1)
            gate = (vals * hit).sum(dim=-1)[rows].unsqueeze(-1)
            t = h[rows]
            y = torch.nn.functional.gelu(t @ self.up[e] + self.up_b[e]) @ self.down[e]
            y = y + self.down_b[e]
            out.index_add_(0, rows, y * gate)
        return out.reshape(shape)


def main():
    w = read_safetensors(sys.argv[1])
    m = Moe(w).eval()
    x = torch.randn(1, 128, 256)
    torch.onnx.export(
        m, (x,), sys.argv[2], input_names=["x"], output_names=["y"],
        dynamic_axes={"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}},
        opset_version=17)


if __name__ == "__main__":
    main()
