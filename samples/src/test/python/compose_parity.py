#!/usr/bin/python3
"""PyTorch reference data for the cmod composition cases of the parity corpus (pytorch-parity.cases,
checked by dev.cmod.parity.PyTorchParityTest) and the tests around them (dev.cmod.compose.*Test).

Usage: /usr/bin/python3 compose_parity.py OUTDIR CASE [CASE ...]   (or the single case name "all")

Same file layout as parity.py and peft_parity.py (shared helpers from parity_common.py, PEFT
references from peft_parity.py): per CASE, OUTDIR/CASE/ gets
  weights.safetensors      every parameter of the cmod model (samples/src/test/resources/compose/CASE.cmod,
                           or samples/CASE.cmod for the samples), keyed by its cmod path, in cmod
                           layouts (Linear weight [in, out]). Every adapter, prefix, prompt, hypernetwork
                           and fusion parameter is "trained": random and non-zero, so a wrong formula,
                           placement, layout or order shows in the outputs
  run<i>.in.<name>.npy     model inputs
  run<i>.out.<name>.npy    PyTorch's outputs (float64 from exactly the stored float32 values)

The references are written the way PyTorch users write these methods, independently of cmod:
  - blocks are pre-norm nn.TransformerEncoderLayer (run through their own submodules so that the
    attention and feed-forward results can be hooked; checked against the layer's forward);
  - bottleneck adapters (Houlsby / Pfeiffer, AdapterHub): up(relu(down(z))) with nn.Linear layers,
    added to the hooked sublayer's output y, with z = y ("after") or z = the sublayer's input
    ("parallel"); AdapterHub Stack applies adapters one after the other, Parallel adds the
    contributions, Average adds their mean;
  - prefix tuning as HF peft's past_key_values: per-head keys / values [heads, L, head_dim]
    concatenated in front of the projected keys / values (causal attention: every query sees every
    prefix position); prompt tuning: [L, d] tokens in front of the input;
  - hypernetwork LoRA unmerged and per example: y_b = base(x_b) + s * (x_b @ A_b) @ B_b with
    A_b = (task_b @ H_a).reshape(in, r), B_b = (task_b @ H_b).reshape(r, out);
  - AdapterFusion: scores (x Q) . (o_i K) / sqrt(d), softmax over the modules, sum of p_i (o_i V);
  - MoE top-k as in peft_parity.py (torch.topk, renormalized);
  - the detox sample reads the shipped bundles and merges theta0 + 0.5 * style - lora_a @ lora_b itself.
"""
import copy
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # importing the shared modules must not leave __pycache__ in the source tree
import parity_common as P  # noqa: E402
import peft_parity as Q  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".."))


# ----------------------------------------------------------------------------------------------
# reference pieces

def block(dim, heads, hidden=None):
    return P.randomize(P.block(dim, heads, hidden))


def attention(m, x, prefix=(), causal=False):
    """Self-attention of nn.MultiheadAttention m on x [b, s, d]. Without prefixes: m itself. With
    prefixes (a list of (k, v) pairs [heads, L, hd]): written out as HF peft does with
    past_key_values, the prefixes concatenated in front of the projected keys and values (causal
    attention on a decoder: every query sees all prefix positions, then the causal part)."""
    if not prefix:
        mask = P.causal_mask(x.shape[1]) if causal else None
        return m(x, x, x, attn_mask=mask, need_weights=False)[0]
    return P.manual_mha(m, x, causal, prefix)


def block_forward(layer, x, attn_hook=None, ffn_hook=None, prefix=(), causal=False):
    """Pre-norm encoder layer: h = x + attn(ln1 x); h + ffn(ln2 h), with hooks hook(input, output)."""
    a_in = layer.norm1(x)
    a = attention(layer.self_attn, a_in, prefix, causal)
    if attn_hook is not None:
        a = attn_hook(a_in, a)
    h = x + a
    f_in = layer.norm2(h)
    f = layer.linear2(F.gelu(layer.linear1(f_in)))
    if ffn_hook is not None:
        f = ffn_hook(f_in, f)
    return h + f


def check_block_forward(layer, x):
    P.check_close(block_forward(layer, x), P.run_block(layer, x), "block_forward vs nn.TransformerEncoderLayer")


class Bottleneck(nn.Module):
    """A trained bottleneck adapter: up(relu(down(z))), every weight and bias non-zero."""

    def __init__(self, din, bottleneck, dout=None):
        super().__init__()
        self.down = nn.Linear(din, bottleneck)
        self.up = nn.Linear(bottleneck, dout if dout is not None else din)
        with torch.no_grad():
            self.down.bias.copy_(0.2 * torch.randn_like(self.down.bias) + 0.1)
            self.up.weight.copy_(0.5 * torch.randn_like(self.up.weight))
            self.up.bias.copy_(0.2 * torch.randn_like(self.up.bias))

    def forward(self, z):
        return self.up(F.relu(self.down(z)))

    def cmod(self, prefix):
        w = {}
        w.update(P.conv_linear(prefix + ".down", self.down))
        w.update(P.conv_linear(prefix + ".up", self.up))
        return w


def adapters(*spec):
    """A hook for block_forward: spec items are ("after" | "parallel", adapter) applied in order
    (AdapterHub Stack), or ("sum" | "mean", [(at, adapter), ...]) (AdapterHub Parallel / Average)."""
    def hook(xin, y):
        for kind, item in spec:
            if kind in ("after", "parallel"):
                y = y + item(y if kind == "after" else xin)
            else:
                d = sum(ad(y if at == "after" else xin) for at, ad in item)
                y = y + (d / len(item) if kind == "mean" else d)
        return y
    return hook


def dbl(w, key):
    return w[key].detach().double()


def nontrivial(outs, base, *names, at_least=0.05):
    for n in names:
        d = (outs[n] - base).abs().max().item()
        if d < at_least:
            raise SystemExit("%s differs from the base by only %g: the composition is nearly vacuous" % (n, d))


def retry_ties(case):
    """Top-k routing needs a clear gap between the k-th and (k+1)-th gate of every token; a draw that
    comes too close to a tie is replaced by the next draw of the same (deterministic) generator."""
    def run():
        for _ in range(20):
            try:
                return case()
            except SystemExit as e:
                if "tie" not in str(e):
                    raise
        raise SystemExit("no draw without top-k ties in 20 tries")
    return run


# ----------------------------------------------------------------------------------------------
# 1. bottleneck adapters

def case_adapter_block():
    layer = block(16, 2)
    ad = {"ffn_adapter": Bottleneck(16, 4), "ffn_par": Bottleneck(16, 6), "attn_post": Bottleneck(16, 3),
          "attn_adapter": Bottleneck(16, 5), "attn_adapter1": Bottleneck(16, 2), "ffn_adapter1": Bottleneck(16, 2),
          "ffn_task": Bottleneck(16, 4)}
    w = P.conv_block("blk", layer)
    for k, a in ad.items():
        inst, name = k.split("_", 1)
        w.update(a.cmod("blk.%s.%s" % (inst, name)))
    m = dict(ad)
    m["layer"] = layer

    def fwd(mm, x):
        L = mm["layer"]
        check_block_forward(L, x)
        out = {
            "y_ffn_after": block_forward(L, x, ffn_hook=adapters(("after", mm["ffn_adapter"]))),
            "y_ffn_par": block_forward(L, x, ffn_hook=adapters(("parallel", mm["ffn_par"]))),
            "y_attn_after": block_forward(L, x, attn_hook=adapters(("after", mm["attn_post"]))),
            "y_attn_par": block_forward(L, x, attn_hook=adapters(("parallel", mm["attn_adapter"]))),
            "y_both": block_forward(L, x, attn_hook=adapters(("parallel", mm["attn_adapter1"])),
                                    ffn_hook=adapters(("parallel", mm["ffn_adapter1"]))),
            "y_stacked": block_forward(L, x, ffn_hook=adapters(("after", mm["ffn_adapter"]), ("parallel", mm["ffn_task"]))),
            "base_y": P.run_block(L, x),
        }
        nontrivial(out, out["base_y"], *[k for k in out if k != "base_y"])
        return out

    xs = [{"x": torch.randn(2, 5, 16)}, {"x": torch.randn(1, 3, 16)}]
    return w, P.evaluate(m, fwd, xs)


def case_adapter_stack():
    layers = [block(16, 2) for _ in range(2)]
    tuned = [Bottleneck(16, 4) for _ in range(2)]
    par = [Bottleneck(16, 4) for _ in range(2)]
    late = Bottleneck(16, 3)
    w = {}
    for i in range(2):
        w.update(P.conv_block("blocks.%d" % i, layers[i]))
        w.update(tuned[i].cmod("blocks.%d.ffn.adapter" % i))
        w.update(par[i].cmod("blocks.%d.ffn.p" % i))
    w.update(late.cmod("blocks.1.attn.late"))
    m = {"l0": layers[0], "l1": layers[1], "t0": tuned[0], "t1": tuned[1], "p0": par[0], "p1": par[1], "late": late}

    def fwd(mm, x):
        def run(hooks):
            h = x
            for i in range(2):
                h = block_forward(mm["l%d" % i], h, **hooks(i))
            return h
        out = {
            "y": run(lambda i: {"ffn_hook": adapters(("after", mm["t%d" % i]))}),
            "y_par": run(lambda i: {"ffn_hook": adapters(("parallel", mm["p%d" % i]))}),
            "y_late": run(lambda i: {"attn_hook": adapters(("after", mm["late"]))} if i == 1 else {}),
            "base_y": P.run_block(mm["l1"], P.run_block(mm["l0"], x)),
        }
        nontrivial(out, out["base_y"], "y", "y_par", "y_late")
        return out

    xs = [{"x": torch.randn(2, 6, 16)}, {"x": torch.randn(3, 2, 16)}]
    return w, P.evaluate(m, fwd, xs)


# ----------------------------------------------------------------------------------------------
# 2. AdapterHub blocks

def case_adapterhub():
    layer = block(16, 2)
    a, b = Bottleneck(16, 4), Bottleneck(16, 6)
    w = P.conv_block("blk", layer)
    w.update(a.cmod("blk.ffn.a"))
    w.update(b.cmod("blk.ffn.b"))
    # the LoRA on attn.q: merged into the packed in_proj_weight rows of q, as peft's merge_and_unload
    w["blk.attn.q.weight.lora_a"] = 0.3 * torch.randn(16, 2)
    w["blk.attn.q.weight.lora_b"] = 0.3 * torch.randn(2, 16)
    m = {"layer": layer, "a": a, "b": b}

    def fwd(mm, x):
        L = mm["layer"]
        A, B = mm["a"], mm["b"]
        merged = copy.deepcopy(L)
        with torch.no_grad():
            merged.self_attn.in_proj_weight[0:16] += (4 / 2 * dbl(w, "blk.attn.q.weight.lora_a") @ dbl(w, "blk.attn.q.weight.lora_b")).t()
        out = {
            "y_a": block_forward(L, x, ffn_hook=adapters(("after", A))),
            "y_b": block_forward(L, x, ffn_hook=adapters(("parallel", B))),
            "y_stack": block_forward(L, x, ffn_hook=adapters(("after", A), ("parallel", B))),
            "y_stack_ba": block_forward(L, x, ffn_hook=adapters(("parallel", B), ("after", A))),
            "y_parallel": block_forward(L, x, ffn_hook=adapters(("sum", [("after", A), ("parallel", B)]))),
            "y_average": block_forward(L, x, ffn_hook=adapters(("mean", [("after", A), ("parallel", B)]))),
            "y_lora_stack": block_forward(merged, x, ffn_hook=adapters(("after", A))),
            "base_y": P.run_block(L, x),
        }
        nontrivial(out, out["base_y"], *[k for k in out if k != "base_y"])
        # (stack(a, b) equals parallel(a, b) here: b is a parallel adapter, it reads x either way)
        for k1, k2 in (("y_stack", "y_stack_ba"), ("y_stack_ba", "y_parallel"), ("y_parallel", "y_average"), ("y_lora_stack", "y_a")):
            if (out[k1] - out[k2]).abs().max().item() < 0.01:
                raise SystemExit("%s and %s are too close to tell apart" % (k1, k2))
        return out

    xs = [{"x": torch.randn(2, 5, 16)}, {"x": torch.randn(1, 4, 16)}]
    return w, P.evaluate(m, fwd, xs)


def case_adapterhub_repeat():
    layers = [block(16, 2) for _ in range(2)]
    lang = [Bottleneck(16, 4) for _ in range(2)]
    task = [Bottleneck(16, 2) for _ in range(2)]
    side = [Bottleneck(16, 3) for _ in range(2)]
    w = {}
    m = {}
    for i in range(2):
        w.update(P.conv_block("blocks.%d" % i, layers[i]))
        w.update(lang[i].cmod("blocks.%d.ffn.lang" % i))
        w.update(task[i].cmod("blocks.%d.ffn.task" % i))
        w.update(side[i].cmod("blocks.%d.attn.side" % i))
        m.update({"l%d" % i: layers[i], "lang%d" % i: lang[i], "task%d" % i: task[i], "side%d" % i: side[i]})

    def fwd(mm, x):
        def run(hooks):
            h = x
            for i in range(2):
                h = block_forward(mm["l%d" % i], h, **hooks(i))
            return h
        out = {
            "y_stack": run(lambda i: {"ffn_hook": adapters(("after", mm["lang%d" % i]), ("after", mm["task%d" % i]))}),
            "y_average": run(lambda i: {"ffn_hook": adapters(("mean", [("after", mm["lang%d" % i]), ("after", mm["task%d" % i])]))}),
            # members on different instances: each instance adds the contributions of the members that target it
            "y_parallel": run(lambda i: {"ffn_hook": adapters(("sum", [("after", mm["lang%d" % i])])),
                                         "attn_hook": adapters(("sum", [("parallel", mm["side%d" % i])]))}),
            "base_y": P.run_block(mm["l1"], P.run_block(mm["l0"], x)),
        }
        nontrivial(out, out["base_y"], "y_stack", "y_average", "y_parallel")
        return out

    xs = [{"x": torch.randn(2, 5, 16)}, {"x": torch.randn(1, 7, 16)}]
    return w, P.evaluate(m, fwd, xs)


# ----------------------------------------------------------------------------------------------
# 3. prefix and prompt tuning

def add_prefix(w, stem, heads, length, hd, std=0.7):
    """stem e.g. blk.attn.prefix -> stem_k, stem_v [heads, length, hd]."""
    w[stem + "_k"] = std * torch.randn(heads, length, hd)
    w[stem + "_v"] = std * torch.randn(heads, length, hd)
    return stem


def prefixes(w, *stems):
    return [(dbl(w, s + "_k"), dbl(w, s + "_v")) for s in stems]


def blk_and_blocks(heads, blocks_heads):
    """The (weights, modules) of a TransformerBlock(16, heads) "blk" (module "layer") and of
    repeat(2) TransformerBlock(16, blocks_heads) "blocks" (modules "l0", "l1")."""
    layer = block(16, heads)
    layers = [block(16, blocks_heads) for _ in range(2)]
    w = P.conv_block("blk", layer)
    for i in range(2):
        w.update(P.conv_block("blocks.%d" % i, layers[i]))
    return w, {"layer": layer, "l0": layers[0], "l1": layers[1]}


def case_prefix_prompt():
    mha = P.randomize(nn.MultiheadAttention(16, 4, batch_first=True))
    w, m = blk_and_blocks(2, 2)
    w.update(P.conv_mha("sa.attn", mha))
    m["mha"] = mha
    add_prefix(w, "sa.attn.prefix", 4, 3, 4)
    add_prefix(w, "blk.attn.prefix", 2, 2, 8)
    add_prefix(w, "blk.attn.prefix1", 2, 4, 8)
    for i in range(2):
        add_prefix(w, "blocks.%d.attn.prefix" % i, 2, 4, 8)
    w["blk.prompt"] = torch.randn(3, 16)

    def fwd(mm, x):
        L = mm["layer"]
        b = x.shape[0]
        empty = torch.zeros(4, 0, 4, dtype=x.dtype)
        P.check_close(attention(mm["mha"], x, [(empty, empty)]), mm["mha"](x, x, x, need_weights=False)[0], "prefix attention")
        h = x
        for i in range(2):
            h = block_forward(mm["l%d" % i], h, prefix=prefixes(w, "blocks.%d.attn.prefix" % i))
        out = {
            "y_sa": attention(mm["mha"], x, prefixes(w, "sa.attn.prefix")),
            "base_sa": mm["mha"](x, x, x, need_weights=False)[0],
            "y_blk": block_forward(L, x, prefix=prefixes(w, "blk.attn.prefix")),
            "y_blk2": block_forward(L, x, prefix=prefixes(w, "blk.attn.prefix", "blk.attn.prefix1")),
            "y_blocks": h,
            "y_prompt": P.run_block(L, torch.cat([dbl(w, "blk.prompt").expand(b, -1, -1), x], 1)),
            "base_y": P.run_block(L, x),
        }
        nontrivial(out, out["base_sa"], "y_sa")
        nontrivial(out, out["base_y"], "y_blk", "y_blk2")
        nontrivial(out, out["y_blk"], "y_blk2")
        nontrivial(out, out["y_prompt"][:, 3:], "base_y")
        return out

    xs = [{"x": torch.randn(2, 5, 16)}, {"x": torch.randn(1, 2, 16)}]
    return w, P.evaluate(m, fwd, xs)


def case_prompt_prefix():
    w, m = blk_and_blocks(4, 2)
    add_prefix(w, "blk.attn.prefix", 4, 2, 4)
    w["blk.prompt"] = torch.randn(3, 16)
    w["blocks.prompt"] = torch.randn(2, 16)

    def fwd(mm, x):
        b = x.shape[0]
        xp = torch.cat([dbl(w, "blk.prompt").expand(b, -1, -1), x], 1)
        xs = torch.cat([dbl(w, "blocks.prompt").expand(b, -1, -1), x], 1)
        return {"y": block_forward(mm["layer"], xp, prefix=prefixes(w, "blk.attn.prefix")),
                "y_blocks": P.run_block(mm["l1"], P.run_block(mm["l0"], xs))}

    xs = [{"x": torch.randn(2, 4, 16)}, {"x": torch.randn(1, 1, 16)}]
    return w, P.evaluate(m, fwd, xs)


def case_prefix_causal():
    w, m = blk_and_blocks(2, 4)
    add_prefix(w, "blk.attn.prefix", 2, 3, 8)
    add_prefix(w, "blk.attn.prefix1", 2, 2, 8)
    for i in range(2):
        add_prefix(w, "blocks.%d.attn.prefix" % i, 4, 2, 4)

    def fwd(mm, x):
        L = mm["layer"]
        empty = torch.zeros(2, 0, 8, dtype=x.dtype)
        P.check_close(attention(L.self_attn, x, [(empty, empty)], causal=True),
                      attention(L.self_attn, x, causal=True), "causal prefix attention")
        h = x
        for i in range(2):
            h = block_forward(mm["l%d" % i], h, prefix=prefixes(w, "blocks.%d.attn.prefix" % i), causal=True)
        out = {
            "y": block_forward(L, x, prefix=prefixes(w, "blk.attn.prefix"), causal=True),
            "y_two": block_forward(L, x, prefix=prefixes(w, "blk.attn.prefix", "blk.attn.prefix1"), causal=True),
            "y_blocks": h,
            "base_y": P.run_block(L, x, causal=True),
        }
        P.check_close(block_forward(L, x, causal=True), out["base_y"], "causal block_forward")
        nontrivial(out, out["base_y"], "y", "y_two")
        return out

    xs = [{"x": torch.randn(2, 5, 16)}, {"x": torch.randn(1, 1, 16)}]
    return w, P.evaluate(m, fwd, xs)


# ----------------------------------------------------------------------------------------------
# 4. hypernetwork LoRA

def hyper_delta(x, task, ha, hb, din, dout, r, scale):
    """Per example b: scale * (x_b @ A_b) @ B_b, the factors generated from task_b."""
    ys = []
    for i in range(x.shape[0]):
        A = (task[i] @ ha).reshape(din, r)
        B = (task[i] @ hb).reshape(r, dout)
        ys.append(scale * (x[i] @ A) @ B)
    return torch.stack(ys)


def case_hyper_lora():
    base = P.Mlp(16, 32)
    head = nn.Linear(16, 12)
    w = {}
    w.update(P.conv_linear("base.up", base.up))
    w.update(P.conv_linear("base.down", base.down))
    w.update(P.conv_linear("head", head))
    for key, din, dout, r in (("base.up.weight.hyper", 16, 32, 2), ("base.down.weight.hyper", 32, 16, 2),
                              ("head.weight.hyper1", 16, 12, 3)):
        w[key + "_a"] = 0.08 * torch.randn(8, din * r)
        w[key + "_b"] = 0.08 * torch.randn(8, r * dout)
    w["head.weight.lora_a"] = 0.3 * torch.randn(16, 2)
    w["head.weight.lora_b"] = 0.3 * torch.randn(2, 12)
    m = {"base": base, "head": head}

    def fwd(mm, x, task):
        def H(key, din, dout, r, s, z):
            return hyper_delta(z, task, dbl(w, key + "_a"), dbl(w, key + "_b"), din, dout, r, s)
        up, down = mm["base"].up, mm["base"].down
        u = up(x) + H("base.up.weight.hyper", 16, 32, 2, 4 / 2, x)
        g = F.gelu(u)
        y = down(g) + H("base.down.weight.hyper", 32, 16, 2, 4 / 2, g)
        hd = mm["head"](x) + 1 / 2 * (x @ dbl(w, "head.weight.lora_a")) @ dbl(w, "head.weight.lora_b") \
            + H("head.weight.hyper1", 16, 12, 3, 3 / 3, x)
        out = {"y": y, "y_head": hd, "base_y": mm["base"](x)}
        nontrivial(out, out["base_y"], "y")
        return out

    xs = [{"x": torch.randn(3, 4, 16), "task": torch.randn(3, 8)}, {"x": torch.randn(1, 2, 16), "task": torch.randn(1, 8)}]
    return w, P.evaluate(m, fwd, xs)


# ----------------------------------------------------------------------------------------------
# 5. AdapterFusion

class Fusion(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.query = nn.Linear(d, d, bias=False)
        self.key = nn.Linear(d, d, bias=False)
        self.value = nn.Linear(d, d, bias=False)
        with torch.no_grad():
            for lin in (self.query, self.key, self.value):
                lin.weight.copy_(0.5 * torch.randn_like(lin.weight))

    def forward(self, x, outs):
        o = torch.stack(outs, dim=-2)                                  # [..., n, d]
        scores = (self.query(x).unsqueeze(-2) * self.key(o)).sum(-1) / math.sqrt(x.shape[-1])
        p = torch.softmax(scores, dim=-1)                              # [..., n]
        return (p.unsqueeze(-1) * self.value(o)).sum(-2)

    def cmod(self, prefix):
        return {prefix + "." + n: getattr(self, n).weight.t() for n in ("query", "key", "value")}


def case_fuse():
    a, b, base = P.Mlp(16, 24), P.Mlp(16, 20), P.Mlp(16, 32)
    ta, tb = Bottleneck(16, 4), Bottleneck(32, 4, 16)
    fu = [Fusion(16) for _ in range(3)]
    w = {}
    for name, mlp in (("a", a), ("b", b), ("base", base)):
        w.update(P.conv_linear(name + ".up", mlp.up))
        w.update(P.conv_linear(name + ".down", mlp.down))
    w.update(ta.cmod("base.down.ta"))
    w.update(tb.cmod("base.down.tb"))
    for i, f in enumerate(fu):
        w.update(f.cmod("Fuse_%d" % i))
    m = {"a": a, "b": b, "base": base, "ta": ta, "tb": tb, "f0": fu[0], "f1": fu[1], "f2": fu[2]}

    def fwd(mm, x):
        oa, ob = mm["a"](x), mm["b"](x)
        g = F.gelu(mm["base"].up(x))
        y0 = mm["base"].down(g)
        ota = y0 + mm["ta"](y0)
        otb = y0 + mm["tb"](g)
        out = {"y": mm["f0"](x, [oa, ob]), "y_pipe": mm["f1"](x, [ob, oa]), "y_adapters": mm["f2"](x, [ota, otb])}
        # not vacuous: the fusion weights are neither uniform nor one-hot
        for (f, outs) in ((mm["f0"], [oa, ob]), (mm["f2"], [ota, otb])):
            o = torch.stack(outs, dim=-2)
            p = torch.softmax((f.query(x).unsqueeze(-2) * f.key(o)).sum(-1) / 4, dim=-1)
            if p.max().item() > 0.999 or (p - 0.5).abs().max().item() < 0.05:
                raise SystemExit("fusion weights are degenerate: change the seed")
        return out

    xs = [{"x": torch.randn(2, 5, 16)}, {"x": torch.randn(1, 3, 16)}]
    return w, P.evaluate(m, fwd, xs)


# ----------------------------------------------------------------------------------------------
# 6. std.route, std.compose, std.peft

@retry_ties
def case_std_modules():
    a, b = P.Mlp(16, 24), P.Mlp(16, 20)
    moe = [P.Mlp(16, 32) for _ in range(4)]
    smoe = [P.Mlp(16, 24) for _ in range(3)]
    ll = nn.Linear(16, 16)
    ia = nn.Linear(16, 16)
    ad = Bottleneck(16, 4)
    w = {}
    for name, mlp in (("a", a), ("b", b)):
        w.update(P.conv_linear(name + ".up", mlp.up))
        w.update(P.conv_linear(name + ".down", mlp.down))
    w["a.up.weight.lora_a"] = 0.3 * torch.randn(16, 2)
    w["a.up.weight.lora_b"] = 0.3 * torch.randn(2, 24)
    w.update(P.conv_linear("ll", ll))
    w["ll.lora_a"] = 0.3 * torch.randn(16, 4)
    w["ll.lora_b"] = 0.3 * torch.randn(4, 16)
    w.update(P.conv_linear("ia", ia))
    w["ia.scale"] = 1 + 0.5 * torch.randn(16)
    w["ad.down_w"], w["ad.down_b"] = ad.down.weight.t(), ad.down.bias
    w["ad.up_w"], w["ad.up_b"] = ad.up.weight.t(), ad.up.bias
    w["sp.tokens"] = torch.randn(2, 16)
    w.update(Q.expert_weights("moe.experts", moe))
    w.update(Q.expert_weights("smoe.experts", smoe))
    w["moe.Router_0.weight"] = Q.router(16, 4)
    w["smoe.Router_0.weight"] = Q.router(16, 3)
    m = {"a": a, "b": b, "ll": ll, "ia": ia, "ad": ad}
    m.update({"m%d" % i: e for i, e in enumerate(moe)})
    m.update({"s%d" % i: e for i, e in enumerate(smoe)})

    def fwd(mm, x):
        A, B = mm["a"], mm["b"]
        n = x.shape[0]
        tuned = A.down(F.gelu(A.up(x) + 4 / 2 * (x @ dbl(w, "a.up.weight.lora_a")) @ dbl(w, "a.up.weight.lora_b")))
        lora_lin = mm["ll"](tuned) + 2.0 / 4 * (tuned @ dbl(w, "ll.lora_a")) @ dbl(w, "ll.lora_b")
        z = mm["ll"](x) + 2.0 / 4 * (x @ dbl(w, "ll.lora_a")) @ dbl(w, "ll.lora_b")
        z = F.linear(z, mm["ia"].weight) * dbl(w, "ia.scale") + mm["ia"].bias
        z = z + mm["ad"](z)
        outs = [mm["m%d" % i](x) for i in range(4)]
        p = torch.softmax(x @ dbl(w, "moe.Router_0.weight"), dim=-1)
        souts = [mm["s%d" % i](x) for i in range(3)]
        sp = torch.softmax(x @ dbl(w, "smoe.Router_0.weight"), dim=-1)
        return {
            "y_res": x + A(x),
            "y_par": A(x) + B(x),
            "y_avg": (A(x) + B(x)) / 2,
            "y_chain": lora_lin,
            "y_peft": z,
            "y_prompt": torch.cat([dbl(w, "sp.tokens").expand(n, -1, -1), x], 1),
            "y_moe": Q.mix(Q.dense_topk_gates(p, 2), outs),
            "y_smoe": Q.mix(sp, souts),
        }

    xs = [{"x": torch.randn(2, 5, 16)}, {"x": torch.randn(1, 3, 16)}]
    return w, P.evaluate(m, fwd, xs)


# ----------------------------------------------------------------------------------------------
# 7. the samples

def madx(lang):
    """samples/madx.cmod with const LANG = lang. Shares everything but the language adapter between
    the two languages (its own fixed seed), so the tests can compare them."""
    g = torch.random.get_rng_state()
    torch.manual_seed(3003)
    embed = nn.Embedding(300, 32)
    layers = [block(32, 4) for _ in range(2)]
    langs = {l: [Bottleneck(32, 8) for _ in range(2)] for l in ("de", "fr")}
    task = [Bottleneck(32, 4) for _ in range(2)]
    norm = P.randomize(nn.LayerNorm(32))
    tagger = nn.Linear(32, 9)
    xs = [{"tokens": torch.randint(0, 300, (2, 7))}, {"tokens": torch.randint(0, 300, (1, 32))}]
    torch.random.set_rng_state(g)
    w = {"embed.table": embed.weight}
    for i in range(2):
        w.update(P.conv_block("encoder.%d" % i, layers[i]))
        w.update(langs[lang][i].cmod("encoder.%d.ffn.lang_%s" % (i, lang)))
        w.update(task[i].cmod("encoder.%d.ffn.task_ner" % i))
    w.update(P.conv_layernorm("norm", norm))
    w.update(P.conv_linear("tagger", tagger))
    m = {"embed": embed, "norm": norm, "tagger": tagger}
    for i in range(2):
        m.update({"l%d" % i: layers[i], "lang%d" % i: langs[lang][i], "task%d" % i: task[i]})

    def fwd(mm, tokens):
        h = mm["embed"](tokens)
        for i in range(2):
            # MAD-X: the task adapter over the language adapter, both after the feed-forward block
            h = block_forward(mm["l%d" % i], h, ffn_hook=adapters(("after", mm["lang%d" % i]), ("after", mm["task%d" % i])))
        return {"tags": mm["tagger"](mm["norm"](h))}

    return w, P.evaluate(m, fwd, xs)


def case_madx_de():
    return madx("de")


def case_madx_fr():
    return madx("fr")


def case_image_prompts():
    patches = nn.Conv2d(3, 48, 8, stride=8)             # PatchEmbed(3, 8, 48) as the ViT strided convolution
    vblock = block(48, 4)
    vnorm = P.randomize(nn.LayerNorm(48))
    words = nn.Embedding(400, 32)
    layers = [block(32, 4) for _ in range(2)]
    lm_head = nn.Linear(32, 400)
    project = nn.Linear(48, 4 * 32)
    w = {"vision.patches.proj.weight": patches.weight.reshape(48, -1).t(), "vision.patches.proj.bias": patches.bias}
    w.update(P.conv_block("vision.block", vblock))
    w.update(P.conv_layernorm("vision.norm", vnorm))
    w["words.table"] = words.weight
    for i in range(2):
        w.update(P.conv_block("blocks.%d" % i, layers[i]))
    w.update(P.conv_linear("lm_head", lm_head))
    w.update(P.conv_linear("project", project))
    m = {"patches": patches, "vblock": vblock, "vnorm": vnorm, "words": words, "l0": layers[0], "l1": layers[1],
         "lm_head": lm_head, "project": project}

    def fwd(mm, image, caption):
        t = mm["patches"](image).flatten(2).transpose(1, 2)
        feat = mm["vnorm"](P.run_block(mm["vblock"], t)).mean(1)
        prompts = mm["project"](feat).reshape(image.shape[0], 4, 32)
        h = torch.cat([prompts, mm["words"](caption)], 1)
        for i in range(2):
            h = P.run_block(mm["l%d" % i], h, causal=True)
        s = caption.shape[1]
        return {"logits": mm["lm_head"](h[:, 4:4 + s])}

    xs = [{"image": torch.randn(2, 3, 32, 32), "caption": torch.randint(0, 400, (2, 6))},
          {"image": torch.randn(1, 3, 32, 32), "caption": torch.randint(0, 400, (1, 1))}]
    return w, P.evaluate(m, fwd, xs)


@retry_ties
def case_moe_lora():
    embed = nn.Embedding(500, 32)
    up, down = Q.LoraLinear(nn.Linear(32, 128)), Q.LoraLinear(nn.Linear(128, 32))
    for _ in range(4):
        up.add(4, 8)
        down.add(4, 8)
    norm = P.randomize(nn.LayerNorm(32))
    head = nn.Linear(32, 500)
    w = {"embed.table": embed.weight}
    w.update(P.conv_linear("base.up", up.base))
    w.update(P.conv_linear("base.down", down.base))
    for i in range(4):
        tag = "lora" if i == 0 else "lora%d" % i   # e0 .. e3 in the order they are applied
        w.update(Q.lora_weights("base.up.weight", up, i, tag))
        w.update(Q.lora_weights("base.down.weight", down, i, tag))
    w["Router_0.weight"] = Q.router(32, 4)
    w.update(P.conv_layernorm("norm", norm))
    w.update(P.conv_linear("head", head))
    m = {"embed": embed, "up": up, "down": down, "norm": norm, "head": head}

    def fwd(mm, tokens):
        h = mm["embed"](tokens)
        z = mm["norm"](h)
        outs = [mm["down"](F.gelu(mm["up"](z, active={i})), active={i}) for i in range(4)]
        p = torch.softmax(z @ dbl(w, "Router_0.weight"), dim=-1)
        return {"logits": mm["head"](h + Q.mix(Q.dense_topk_gates(p, 2), outs))}

    xs = [{"tokens": torch.randint(0, 500, (2, 9))}, {"tokens": torch.randint(0, 500, (1, 3))}]
    return w, P.evaluate(m, fwd, xs)


def case_detox():
    # theta = base + 0.5 * style - toxic: style is a full delta of up.weight ([in, out], cmod layout),
    # toxic the LoRA pair of down.weight (delta = lora_a @ lora_b)
    bundles = os.path.join(ROOT, "samples", "bundles")
    style = P.read_safetensors(os.path.join(bundles, "style.safetensors"))
    toxic = P.read_safetensors(os.path.join(bundles, "toxic.safetensors"))
    embed = nn.Embedding(100, 16)
    base = P.Mlp(16, 32)
    head = nn.Linear(16, 2)
    w = {"embed.table": embed.weight}
    w.update(P.conv_linear("base.up", base.up))
    w.update(P.conv_linear("base.down", base.down))
    w.update(P.conv_linear("head", head))
    m = {"embed": embed, "base": base, "head": head}

    def fwd(mm, tokens):
        mixed = copy.deepcopy(mm["base"])
        with torch.no_grad():
            mixed.up.weight += 0.5 * style["up.weight"].double().t()
            mixed.down.weight -= (toxic["down.weight.lora_a"].double() @ toxic["down.weight.lora_b"].double()).t()
        h = mm["embed"](tokens)
        out = {"score": mm["head"](mixed(h).mean(1))}
        nontrivial(out, mm["head"](mm["base"](h).mean(1)), "score", at_least=0.01)
        return out

    xs = [{"tokens": torch.randint(0, 100, (3, 8))}, {"tokens": torch.randint(0, 100, (1, 16))}]
    return w, P.evaluate(m, fwd, xs)


# ----------------------------------------------------------------------------------------------
# 8. AdapterHub Fuse / Split and ControlNet-style conditioning
#    (case names sort after the older ones, so the older cases keep their seeds and data)

def case_with_fuse_split():
    """blk with fuse(de, ner) / fuse(ner, de) / split(de, ner, at = 2) / split(ner, de, at = 3) on the
    ffn of one block, de an "after" and ner a "parallel" adapter. AdapterFusion as AdapterHub's
    BertFusion without temperature: the query is the ffn's output y, keys and values the members'
    outputs y + delta_i, softmax over the members of (y Q).(o_i K)/sqrt(d), result sum p_i (o_i V)
    (it replaces the ffn's output; the block's residual adds it). Split: positions < n get de's
    contribution, the others ner's (each adapter reading its own input, y or the ffn input, at the
    same positions)."""
    layer = block(16, 2)
    de, ner = Bottleneck(16, 4), Bottleneck(16, 6)
    fu, fu_rev = Fusion(16), Fusion(16)
    w = P.conv_block("blk", layer)
    w.update(de.cmod("blk.ffn.de"))
    w.update(ner.cmod("blk.ffn.ner"))
    w.update(fu.cmod("blk.ffn.fusion"))
    w.update(fu_rev.cmod("blk.ffn.fusion1"))
    m = {"layer": layer, "de": de, "ner": ner, "fu": fu, "fu_rev": fu_rev}

    def fwd(mm, x):
        L, D, N = mm["layer"], mm["de"], mm["ner"]

        def fusion(f, first, second):
            def hook(xin, y):
                o = {"de": y + D(y), "ner": y + N(xin)}
                p = torch.softmax((f.query(y).unsqueeze(-2) * f.key(torch.stack([o[first], o[second]], -2))).sum(-1) / 4, -1)
                if p.max().item() > 0.999 or (p - 0.5).abs().max().item() < 0.05:
                    raise SystemExit("fusion weights are degenerate: change the seed")
                return f(y, [o[first], o[second]])
            return hook

        def split(first, second, n):
            def hook(xin, y):
                delta = {"de": lambda s: D(y[:, s]), "ner": lambda s: N(xin[:, s])}
                a, b = slice(0, n), slice(n, None)
                return y + torch.cat([delta[first](a), delta[second](b)], dim=1)
            return hook

        out = {
            "y_de": block_forward(L, x, ffn_hook=adapters(("after", D))),
            "y_ner": block_forward(L, x, ffn_hook=adapters(("parallel", N))),
            "y_fuse": block_forward(L, x, ffn_hook=fusion(mm["fu"], "de", "ner")),
            "y_fuse_rev": block_forward(L, x, ffn_hook=fusion(mm["fu_rev"], "ner", "de")),
            "y_split": block_forward(L, x, ffn_hook=split("de", "ner", 2)),
            "y_split_rev": block_forward(L, x, ffn_hook=split("ner", "de", 3)),
            "base_y": P.run_block(L, x),
        }
        nontrivial(out, out["base_y"], *[k for k in out if k != "base_y"])
        # the split really splits: its first positions are de's, its later ones ner's
        P.check_close(out["y_split"][:, :2], out["y_de"][:, :2], "split(de, ner, at = 2) before 2 = de")
        P.check_close(out["y_split"][:, 2:], out["y_ner"][:, 2:], "split(de, ner, at = 2) from 2 = ner")
        for k1, k2 in (("y_split", "y_de"), ("y_split", "y_ner"), ("y_fuse", "y_de"), ("y_fuse", "y_ner"), ("y_fuse", "y_fuse_rev")):
            if (out[k1] - out[k2]).abs().max().item() < 0.01:
                raise SystemExit("%s and %s are too close to tell apart" % (k1, k2))
        return out

    # seq 3: split(ner, de, at = 3) leaves de nothing; seq >= 4 otherwise
    xs = [{"x": torch.randn(2, 5, 16)}, {"x": torch.randn(1, 4, 16)}, {"x": torch.randn(2, 3, 16)}]
    return w, P.evaluate(m, fwd, xs)


def case_via_control_image():
    """condition gen on edges via control(strength = 0.5) and on depth via control(strength = 2.0), gen a
    Conv2d(3, 4, 3, padding = 1): gen(z) + 0.5 * conv1x1_control(edges) + 2 * conv1x1_control1(depth),
    the 1x1 convolutions nn.Conv2d(C_c, 4, 1) with trained weights and biases."""
    gen = nn.Conv2d(3, 4, 3, padding=1)
    c0, c1 = nn.Conv2d(2, 4, 1), nn.Conv2d(1, 4, 1)
    with torch.no_grad():
        gen.bias.copy_(0.3 * torch.randn_like(gen.bias))
        for c in (c0, c1):
            c.weight.copy_(0.5 * torch.randn_like(c.weight))
            c.bias.copy_(0.3 * torch.randn_like(c.bias))
    w = {"gen.weight": gen.weight, "gen.bias": gen.bias,
         "gen.control.weight": c0.weight, "gen.control.bias": c0.bias,
         "gen.control1.weight": c1.weight, "gen.control1.bias": c1.bias}
    m = {"gen": gen, "c0": c0, "c1": c1}

    def fwd(mm, noise, noise2, edges, depth):
        ctl = 0.5 * mm["c0"](edges) + 2.0 * mm["c1"](depth)
        out = {"image": mm["gen"](noise) + ctl, "image2": mm["gen"](noise2) + ctl}
        nontrivial(out, mm["gen"](noise), "image")
        return out

    def images(n, h, wd):
        return {"noise": torch.randn(n, 3, h, wd), "noise2": torch.randn(n, 3, h, wd),
                "edges": torch.randn(n, 2, h, wd), "depth": torch.randn(n, 1, h, wd)}

    return w, P.evaluate(m, fwd, [images(2, 8, 8), images(1, 5, 7)])


def case_via_control_seq():
    """condition mlp on hint via control(strength = 0.5), mlp an Mlp(8, 16) on a sequence:
    mlp(text) + 0.5 * (hint @ W + b), W [4, 8] (cmod layout of nn.Linear(4, 8))."""
    mlp = P.Mlp(8, 16)
    ctl = nn.Linear(4, 8)
    with torch.no_grad():
        ctl.weight.copy_(0.5 * torch.randn_like(ctl.weight))
        ctl.bias.copy_(0.3 * torch.randn_like(ctl.bias))
    w = {}
    w.update(P.conv_linear("mlp.up", mlp.up))
    w.update(P.conv_linear("mlp.down", mlp.down))
    w.update(P.conv_linear("mlp.control", ctl))
    m = {"mlp": mlp, "ctl": ctl}

    def fwd(mm, text, hint):
        out = {"y": mm["mlp"](text) + 0.5 * mm["ctl"](hint)}
        nontrivial(out, mm["mlp"](text), "y")
        return out

    xs = [{"text": torch.randn(2, 5, 8), "hint": torch.randn(2, 5, 4)},
          {"text": torch.randn(1, 3, 8), "hint": torch.randn(1, 3, 4)}]
    return w, P.evaluate(m, fwd, xs)


if __name__ == "__main__":
    P.main(sys.argv, P.cases(globals()), 4000)
