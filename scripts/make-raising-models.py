#!/usr/bin/env python3
"""Writes the small PyTorch-exported ONNX models (opset 17) that the importer's pattern-raising
tests read: each decomposed pattern (LayerNorm written out as BERT's code does, GELU in its erf and
tanh forms, scaled dot-product attention with and without a mask) and, per pattern, near misses
that must stay as they are.

    /usr/bin/python3 scripts/make-raising-models.py   # into backend-onnx/src/test/resources/raising

Needs python3-torch and python3-onnx (Debian 12). The weights come from a fixed seed, and the
files are committed, so the tests need neither.
"""
import math
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "backend-onnx", "src", "test", "resources",
    "raising")


class LayerNorm(torch.nn.Module):
    """BERT's hand-written LayerNorm; `axis` and `eps_inside` make the near misses."""

    def __init__(self, d, eps=1e-12, axis=-1, eps_inside=True, also_mean=False):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(d))
        self.bias = torch.nn.Parameter(torch.randn(d))
        self.eps, self.axis, self.eps_inside, self.also_mean = eps, axis, eps_inside, also_mean

    def forward(self, x):
        u = x.mean(self.axis, keepdim=True)
        s = (x - u).pow(2).mean(self.axis, keepdim=True)
        if self.eps_inside:
            y = (x - u) / torch.sqrt(s + self.eps)
        else:
            y = (x - u) / (torch.sqrt(s) + self.eps)
        y = self.weight * y + self.bias
        return (y, u) if self.also_mean else y


class Gelu(torch.nn.Module):
    def __init__(self, form):
        super().__init__()
        self.form = form

    def forward(self, x):
        x = x * 3.0  # a node before, so the pattern's x is not the graph input itself
        if self.form == "erf":
            return F.gelu(x)
        if self.form == "erf_hf":  # 0.5 first, as Hugging Face's old gelu wrote it
            return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))
        if self.form == "tanh":
            return F.gelu(x, approximate="tanh")
        if self.form == "tanh_pow":  # GPT-2's NewGELU
            return 0.5 * x * (1.0 + torch.tanh(
                math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
        if self.form == "erf_wrong":  # not 1/sqrt(2)
            return x * 0.5 * (1.0 + torch.erf(x / 1.5))
        if self.form == "tanh_wrong":  # not 0.044715
            return 0.5 * x * (1.0 + torch.tanh(
                math.sqrt(2.0 / math.pi) * (x + 0.05 * torch.pow(x, 3.0))))
        raise ValueError(self.form)


class Sdpa(torch.nn.Module):
    """softmax(q kᵀ / scale + mask) v on [b, h, s, d] inputs."""

    def __init__(self, scale=None, mask=False, return_probs=False, mul=False):
        super().__init__()
        self.scale, self.mask, self.return_probs, self.mul = scale, mask, return_probs, mul

    def forward(self, q, k, v, *mask):
        scale = self.scale if self.scale is not None else math.sqrt(q.shape[-1])
        s = torch.matmul(q, k.transpose(-1, -2))
        s = s * (1.0 / scale) if self.mul else s / scale
        if self.mask:
            s = s + mask[0]
        p = torch.softmax(s, dim=-1)
        out = torch.matmul(p, v)
        return (out, p) if self.return_probs else out


class Block(torch.nn.Module):
    """BERT's self-attention with its padding mask and output LayerNorm, one GELU MLP."""

    def __init__(self, d=24, heads=3):
        super().__init__()
        self.h, self.e = heads, d // heads
        self.q, self.k, self.v, self.o = (torch.nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = LayerNorm(d), LayerNorm(d)
        self.up, self.down = torch.nn.Linear(d, 4 * d), torch.nn.Linear(4 * d, d)

    def split(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.h, self.e).permute(0, 2, 1, 3)

    def forward(self, x, mask):
        b, s, d = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        ext = (1.0 - mask[:, None, None, :]) * -10000.0
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.e) + ext
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3)
        h = self.ln1(self.o(ctx.reshape(b, s, d)) + x)
        return self.ln2(self.down(F.gelu(self.up(h))) + h)


def export(name, module, inputs, input_names, output_names):
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(module.eval(), inputs, path, opset_version=17, input_names=input_names,
                      output_names=output_names, do_constant_folding=False)
    print("wrote", os.path.relpath(path))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(2, 5, 16)
    export("layer_norm", LayerNorm(16), (x,), ["x"], ["y"])
    export("layer_norm_axis1", LayerNorm(16, axis=1), (x,), ["x"], ["y"])
    export("layer_norm_eps_outside", LayerNorm(16, eps_inside=False), (x,), ["x"], ["y"])
    export("layer_norm_mean_read", LayerNorm(16, also_mean=True), (x,), ["x"], ["y", "mean"])
    for form in ["erf", "erf_hf", "tanh", "tanh_pow", "erf_wrong", "tanh_wrong"]:
        export("gelu_" + form, Gelu(form), (x,), ["x"], ["y"])
    q, k, v = (torch.randn(2, 3, 6, 8) for _ in range(3))
    mask = torch.where(torch.rand(2, 1, 1, 6) < 0.3, -10000.0, 0.0)
    export("attention", Sdpa(), (q, k, v), ["q", "k", "v"], ["y"])
    export("attention_mask_mul", Sdpa(mask=True, mul=True), (q, k, v, mask),
           ["q", "k", "v", "mask"], ["y"])
    export("attention_scale_3", Sdpa(scale=3.0), (q, k, v), ["q", "k", "v"], ["y"])
    export("attention_probs_read", Sdpa(return_probs=True), (q, k, v), ["q", "k", "v"],
           ["y", "probs"])
    pad = torch.ones(2, 7)
    pad[1, 5:] = 0
    export("bert_block", Block(), (torch.randn(2, 7, 24), pad), ["x", "mask"], ["y"])


if __name__ == "__main__":
    main()
