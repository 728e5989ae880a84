#!/usr/bin/python3
"""PyTorch reference data for the cmod PEFT cases of the parity corpus (pytorch-parity.cases,
checked by dev.cmod.parity.PyTorchParityTest) and the tests around them (dev.cmod.peft.*Test): LoRA, IA3
and routing.

Usage: /usr/bin/python3 peft_parity.py OUTDIR CASE [CASE ...]   (or the single case name "all")

Same file layout as parity.py (the shared helpers are in parity_common.py): per CASE, OUTDIR/CASE/ gets
  weights.safetensors      every parameter of the cmod model (samples/src/test/resources/peft/CASE.cmod),
                           keyed by its cmod path, in cmod layouts (Linear weight [in, out]); LoRA
                           factors <weight>.lora_a [in, r] / .lora_b [r, out] are "trained": both
                           random and non-zero, so a wrong factor, scale or layout shows
  run<i>.in.<name>.npy     model inputs
  run<i>.out.<name>.npy    PyTorch's outputs (float64 from exactly the stored float32 values)

The references are written the way PyTorch users write them, independently of how cmod computes:
  - LoRA on an nn.Linear the way HF peft does it, unmerged: base(x) + scale * lora_B(lora_A(x)),
    with lora_A = nn.Linear(in, r, bias=False), lora_B = nn.Linear(r, out, bias=False) (PyTorch
    layouts: cmod's lora_a = lora_A.weight.T, lora_b = lora_B.weight.T), scale = alpha / r;
  - LoRA on nn.TransformerEncoderLayer merged into the layer's weights (peft's merge_and_unload):
    the packed in_proj_weight rows of q / v get (scale * A @ B)^T;
  - IA3: the linear's weight-product scaled per output feature, the bias not: (x W^T) * l + b;
  - routing: p = softmax(x @ Wr); top-k by torch.topk, renormalized, scattered into dense gates;
    index routing by one_hot of the class input; y = sum_e gate_e * expert_e(x).
"""
import copy
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # importing the shared module must not leave __pycache__ in the source tree
import parity_common as P  # noqa: E402


# ----------------------------------------------------------------------------------------------
# reference modules

class LoraLinear(nn.Module):
    """HF-peft-style LoRA around an nn.Linear; several adapters on one layer add up."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        self.adapters = nn.ModuleList()
        self.scales = []

    def add(self, rank, alpha, std=0.3):
        a = nn.Linear(self.base.in_features, rank, bias=False)
        b = nn.Linear(rank, self.base.out_features, bias=False)
        with torch.no_grad():
            a.weight.copy_(std * torch.randn_like(a.weight))
            b.weight.copy_(std * torch.randn_like(b.weight))  # "trained": non-zero
        self.adapters.append(nn.Sequential(a, b))
        self.scales.append(alpha / rank)
        return len(self.adapters) - 1

    def forward(self, x, active=None):
        y = self.base(x)
        for i, (ad, s) in enumerate(zip(self.adapters, self.scales)):
            if active is None or i in active:
                y = y + s * ad(x)
        return y

    def factors(self, i):
        """cmod layouts: (lora_a [in, r], lora_b [r, out])."""
        ad = self.adapters[i]
        return ad[0].weight.t(), ad[1].weight.t()


class IA3Linear(nn.Module):
    def __init__(self, base):
        super().__init__()
        self.base = base
        self.l = nn.Parameter(1 + 0.5 * torch.randn(base.out_features))

    def forward(self, x, pre=None):
        # pre: the (possibly LoRA-adapted) product x @ W' without bias; default x W^T
        xw = F.linear(x, self.base.weight) if pre is None else pre
        return xw * self.l + self.base.bias


def gelu_mlp(up, down, x):
    return down(F.gelu(up(x)))


def lora_weights(prefix, lin, i, tag="lora"):
    a, b = lin.factors(i)
    return {prefix + "." + tag + "_a": a, prefix + "." + tag + "_b": b}


# ----------------------------------------------------------------------------------------------
# LoRA

def case_lora_mlp():
    # let base = Mlp(16, 32); let tuned = base with lora(rank = 4, alpha = 8) on "up", "down.weight"
    up, down = LoraLinear(nn.Linear(16, 32)), LoraLinear(nn.Linear(32, 16))
    up.add(4, 8)
    down.add(4, 8)
    w = {}
    w.update(P.conv_linear("base.up", up.base))
    w.update(P.conv_linear("base.down", down.base))
    w.update(lora_weights("base.up.weight", up, 0))
    w.update(lora_weights("base.down.weight", down, 0))
    m = {"up": up, "down": down}

    def fwd(mm, x):
        return {"y": mm["down"](F.gelu(mm["up"](x))),
                "base_y": gelu_mlp(mm["up"].base, mm["down"].base, x)}

    xs = [{"x": 2 * torch.randn(2, 5, 16)}, {"x": torch.randn(1, 3, 16)}]
    return w, P.evaluate(m, fwd, xs)


def case_lora_stacked():
    # first = base with lora(rank = 4, alpha = 8) on "up"
    # both  = first with lora(rank = 2, alpha = 1) on "up", "down"
    # the second LoRA on base.up.weight gets .lora1_a/.lora1_b; on base.down.weight it is the first: .lora_a
    up, down = LoraLinear(nn.Linear(16, 32)), LoraLinear(nn.Linear(32, 16))
    up.add(4, 8)
    up.add(2, 1)
    down.add(2, 1)
    w = {}
    w.update(P.conv_linear("base.up", up.base))
    w.update(P.conv_linear("base.down", down.base))
    w.update(lora_weights("base.up.weight", up, 0, "lora"))
    w.update(lora_weights("base.up.weight", up, 1, "lora1"))
    w.update(lora_weights("base.down.weight", down, 0, "lora"))
    m = {"up": up, "down": down}

    def fwd(mm, x):
        return {"y": mm["down"](F.gelu(mm["up"](x))),
                "y_first": mm["down"].base(F.gelu(mm["up"](x, active={0})))}

    xs = [{"x": torch.randn(3, 4, 16)}]
    return w, P.evaluate(m, fwd, xs)


# Which PyTorch weight of nn.TransformerEncoderLayer (and which rows of it) a cmod path names.
def torch_weight(layer, rel):
    d = layer.self_attn.embed_dim
    if rel in ("attn.q", "attn.k", "attn.v"):
        i = "qkv".index(rel[-1])
        return layer.self_attn.in_proj_weight, slice(i * d, (i + 1) * d)
    if rel == "attn.o":
        return layer.self_attn.out_proj.weight, slice(None)
    if rel == "ffn.up":
        return layer.linear1.weight, slice(None)
    if rel == "ffn.down":
        return layer.linear2.weight, slice(None)
    raise ValueError(rel)


def lora_blocks_case(targets, rank, alpha):
    """repeat(2) TransformerBlock(16, 2) adapted on targets: list of (block index, 'attn.q' ...)."""
    layers = [P.randomize(P.block(16, 2)) for _ in range(2)]
    w = {}
    for i, layer in enumerate(layers):
        w.update(P.conv_block("blocks.%d" % i, layer))
    s = alpha / rank
    for (i, rel) in targets:
        wt, rows = torch_weight(layers[i], rel)
        dout, din = wt[rows].shape
        key = "blocks.%d.%s.weight" % (i, rel)
        w[key + ".lora_a"] = 0.3 * torch.randn(din, rank)
        w[key + ".lora_b"] = 0.3 * torch.randn(rank, dout)
    # the merged delta (scale * A @ B)^T in float64, added to float64 copies of the layers in forward
    deltas = []
    for (i, rel) in targets:
        key = "blocks.%d.%s.weight" % (i, rel)
        deltas.append((i, rel, s * (w[key + ".lora_a"].double() @ w[key + ".lora_b"].double()).t()))
    m = {"b0": layers[0], "b1": layers[1]}

    def fwd(mm, x):
        merged = [copy.deepcopy(mm["b0"]), copy.deepcopy(mm["b1"])]
        for (i, rel, dlt) in deltas:
            wt, rows = torch_weight(merged[i], rel)
            with torch.no_grad():
                wt[rows] += dlt
        return {"y": P.run_block(merged[1], P.run_block(merged[0], x)),
                "base_y": P.run_block(mm["b1"], P.run_block(mm["b0"], x))}

    xs = [{"x": torch.randn(2, 6, 16)}, {"x": torch.randn(3, 3, 16)}]
    return w, P.evaluate(m, fwd, xs)


def case_lora_blocks():
    # blocks with lora(rank = 4, alpha = 8) on "*.attn.q", "*.attn.v"
    return lora_blocks_case([(i, r) for i in range(2) for r in ("attn.q", "attn.v")], 4, 8)


def case_lora_doublestar():
    # blocks with lora(rank = 2, alpha = 4) on "1.**.weight", "**.ffn.up"
    t = [(1, r) for r in ("attn.q", "attn.k", "attn.v", "attn.o", "ffn.up", "ffn.down")] + [(0, "ffn.up")]
    return lora_blocks_case(t, 2, 4)


# ----------------------------------------------------------------------------------------------
# IA3

def case_ia3_mlp():
    # ia3 = base with ia3 on "up"
    # lora_up = base with lora(rank = 2, alpha = 4) on "up";  both = lora_up with ia3 on "up"
    up = LoraLinear(nn.Linear(16, 32))
    up.add(2, 4)
    down = nn.Linear(32, 16)
    ia3_a = IA3Linear(up.base)   # the ia3 of `ia3`:  base.up.weight.ia3
    ia3_b = IA3Linear(up.base)   # the ia3 of `both`: base.up.weight.ia31 (second IA3 on that weight)
    w = {}
    w.update(P.conv_linear("base.up", up.base))
    w.update(P.conv_linear("base.down", down))
    w["base.up.weight.ia3"] = ia3_a.l
    w["base.up.weight.ia31"] = ia3_b.l
    w.update(lora_weights("base.up.weight", up, 0))
    m = {"up": up, "down": down, "ia3_a": ia3_a, "ia3_b": ia3_b}

    def fwd(mm, x):
        u = mm["up"]
        lora_pre = F.linear(x, u.base.weight) + u.scales[0] * u.adapters[0](x)   # x (W + s A B), no bias
        return {"y": mm["down"](F.gelu(mm["ia3_a"](x))),
                "y_both": mm["down"](F.gelu(mm["ia3_b"](x, pre=lora_pre))),
                "base_y": mm["down"](F.gelu(u.base(x)))}

    xs = [{"x": torch.randn(2, 5, 16)}]
    return w, P.evaluate(m, fwd, xs)


# ----------------------------------------------------------------------------------------------
# routing

def dense_topk_gates(p, k):
    vals, idx = torch.topk(p, k, dim=-1)
    srt = torch.sort(p, dim=-1, descending=True).values
    if k < p.shape[-1]:
        gap = (srt[..., k - 1] - srt[..., k]).min().item()
        if gap < 1e-4:
            raise SystemExit("top-%d selection is too close to a tie (gap %g): change the seed" % (k, gap))
    vals = vals / vals.sum(-1, keepdim=True)
    return torch.zeros_like(p).scatter(-1, idx, vals)


def mix(gates, outs):
    return sum(gates[..., e:e + 1] * o for e, o in enumerate(outs))


def router(d, n, std=0.7):
    return std * torch.randn(d, n)


def case_moe_lora_topk():
    # a mixture of LoRA experts: four LoRA adaptations of one shared base Mlp(16, 32), top-2 per token.
    #   e0 = base with lora(rank = 2) on "up"               -> base.up.weight.lora_*
    #   e1 = base with lora(rank = 2, alpha = 4) on "up"    -> base.up.weight.lora1_*
    #   e2 = base with lora(rank = 2) on "up", "down"       -> base.up.weight.lora2_*, base.down.weight.lora_*
    #   e3 = base with lora(rank = 4, alpha = 2) on "up", "down" -> base.up.weight.lora3_*, base.down.weight.lora1_*
    # (factor names in the order the experts are first applied, which is the list order)
    up, down = LoraLinear(nn.Linear(16, 32)), LoraLinear(nn.Linear(32, 16))
    spec = [((2, 2), None), ((2, 4), None), ((2, 2), (2, 2)), ((4, 2), (4, 2))]
    ups, downs = [], []
    for (ur, dr) in spec:
        ups.append(up.add(*ur))
        downs.append(down.add(*dr) if dr else None)
    w = {}
    w.update(P.conv_linear("base.up", up.base))
    w.update(P.conv_linear("base.down", down.base))
    for i in range(4):
        w.update(lora_weights("base.up.weight", up, ups[i], "lora" if i == 0 else "lora%d" % i))
    w.update(lora_weights("base.down.weight", down, downs[2], "lora"))
    w.update(lora_weights("base.down.weight", down, downs[3], "lora1"))
    w["Router_0.weight"] = router(16, 4)
    m = {"up": up, "down": down}

    def fwd(mm, x):
        outs = []
        for i in range(4):
            du = {downs[i]} if downs[i] is not None else set()
            outs.append(mm["down"](F.gelu(mm["up"](x, active={ups[i]})), active=du))
        p = torch.softmax(x @ w["Router_0.weight"].double(), dim=-1)
        return {"y": mix(dense_topk_gates(p, 2), outs), "base_y": mm["down"].base(F.gelu(mm["up"].base(x)))}

    xs = [{"x": torch.randn(2, 7, 16)}, {"x": torch.randn(1, 4, 16)}]
    return w, P.evaluate(m, fwd, xs)


def mlps(n, d, h):
    return [P.Mlp(d, h) for _ in range(n)]


def expert_weights(prefix, experts):
    w = {}
    for i, e in enumerate(experts):
        w.update(P.conv_linear("%s.%d.up" % (prefix, i), e.up))
        w.update(P.conv_linear("%s.%d.down" % (prefix, i), e.down))
    return w


def case_moe_soft():
    # let experts = [Mlp(16, 24) x3]; soft = route x to experts by soft (Router_0);
    # top1 = route x to experts by topk(1) (Router_1, the second route of the body)
    experts = mlps(3, 16, 24)
    w = expert_weights("experts", experts)
    w["Router_0.weight"] = router(16, 3)
    w["Router_1.weight"] = router(16, 3)
    m = {"e%d" % i: e for i, e in enumerate(experts)}

    def fwd(mm, x):
        outs = [mm["e%d" % i](x) for i in range(3)]
        p0 = torch.softmax(x @ w["Router_0.weight"].double(), dim=-1)
        p1 = torch.softmax(x @ w["Router_1.weight"].double(), dim=-1)
        return {"soft": mix(p0, outs), "top1": mix(dense_topk_gates(p1, 1), outs)}

    xs = [{"x": torch.randn(2, 5, 16)}]
    return w, P.evaluate(m, fwd, xs)


def case_moe_index():
    # route x / v to experts by index(lang), lang: Class[3] (one expert per example); x: [b, s, 16], v: [b, 16]
    experts = mlps(3, 16, 24)
    w = expert_weights("experts", experts)
    m = {"e%d" % i: e for i, e in enumerate(experts)}

    def fwd(mm, x, v, lang):
        y = torch.stack([mm["e%d" % int(lang[b])](x[b]) for b in range(x.shape[0])])
        z = torch.stack([mm["e%d" % int(lang[b])](v[b]) for b in range(v.shape[0])])
        return {"y": y, "z": z}

    xs = [{"x": torch.randn(3, 4, 16), "v": torch.randn(3, 16), "lang": torch.tensor([2, 0, 1])},
          {"x": torch.randn(4, 2, 16), "v": torch.randn(4, 16), "lang": torch.tensor([1, 1, 0, 2])}]
    return w, P.evaluate(m, fwd, xs)


def case_moe_example():
    # module Moe4 (experts list + route ... by topk(2) inside), let moe = Moe4(16); x: f32[16] per example
    experts = mlps(4, 16, 32)
    w = expert_weights("moe.experts", experts)
    w["moe.Router_0.weight"] = router(16, 4)
    m = {"e%d" % i: e for i, e in enumerate(experts)}

    def fwd(mm, x):
        outs = [mm["e%d" % i](x) for i in range(4)]
        p = torch.softmax(x @ w["moe.Router_0.weight"].double(), dim=-1)
        return {"y": mix(dense_topk_gates(p, 2), outs)}

    xs = [{"x": torch.randn(6, 16)}, {"x": torch.randn(1, 16)}]
    return w, P.evaluate(m, fwd, xs)


if __name__ == "__main__":
    P.main(sys.argv, P.cases(globals()), 2000)
