"""Shared pieces of the cmod PyTorch parity scripts (parity.py, peft_parity.py, compose_parity.py).

The Java side (dev.cmod.testkit.PyParity) runs a script as

    /usr/bin/python3 SCRIPT.py OUTDIR CASE [CASE ...]   (or the single case name "all")

and every script writes, for each CASE, into OUTDIR/CASE/:
  weights.safetensors      every parameter of the cmod model, keyed by its cmod parameter path
                           (language.md section 9), in cmod layouts (Linear weight [in, out])
  run<i>.in.<name>.npy     the model input <name> of run i
  run<i>.out.<name>.npy    PyTorch's value of model output <name> for run i

Parameters are random (torch.manual_seed per case) and stored as float32; the expected outputs are
computed in float64 from exactly those float32 values (evaluate), so the comparison measures only
the compiled model's own float32 error.

This module holds the files (safetensors written and read by hand, .npy, the case folder and the
command line), the converters from PyTorch modules to cmod parameter paths and the reference
modules and helpers the scripts share. Only needs torch and numpy (Debian's python3-torch).
"""
import copy
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)


# ----------------------------------------------------------------------------------------------
# files

def write_safetensors(path, tensors):
    """8-byte little-endian header length, JSON header (keys sorted), raw little-endian F32 data."""
    header = {}
    blobs = []
    offset = 0
    for key in sorted(tensors):
        a = np.ascontiguousarray(to_np(tensors[key]), dtype="<f4")
        data = a.tobytes()
        header[key] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for data in blobs:
            f.write(data)


def read_safetensors(path):
    """The F32 tensors of a safetensors file by key, as torch tensors."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", v
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").reshape(v["shape"]).copy())
    return out


def to_np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def save_npy(path, t):
    a = to_np(t)
    if a.dtype.kind == "f":
        a = a.astype("<f4")
    elif a.dtype.kind in "iu":
        a = a.astype("<i8")
    np.save(path, np.ascontiguousarray(a))


def write_case(d, weights, runs):
    """The case folder d: weights.safetensors and run<i>.in.<name>.npy / run<i>.out.<name>.npy."""
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, "weights.safetensors"), weights)
    for r, (inputs, outputs) in enumerate(runs):
        for k, v in inputs.items():
            save_npy(os.path.join(d, "run%d.in.%s.npy" % (r, k)), v)
        for k, v in outputs.items():
            save_npy(os.path.join(d, "run%d.out.%s.npy" % (r, k)), v)


def cases(namespace):
    """The cases of a script: its functions case_NAME() by NAME (the corpus,
    samples/src/test/resources/pytorch-parity.cases, names them as `reference = SCRIPT NAME`)."""
    return {k[len("case_"):]: f for k, f in namespace.items() if k.startswith("case_") and callable(f)}


def main(argv, cases, seed):
    """The command line of every script: OUTDIR CASE [CASE ...] (or "all"). Case NAME is drawn
    under torch.manual_seed(seed + its index among the sorted case names)."""
    script = os.path.basename(argv[0])
    if len(argv) < 3:
        raise SystemExit("usage: %s OUTDIR CASE [CASE ...]  (cases: %s, or all)" % (script, " ".join(cases)))
    out = argv[1]
    names = list(cases) if argv[2:] == ["all"] else argv[2:]
    for name in names:
        if name not in cases:
            raise SystemExit("unknown case '%s' (cases: %s)" % (name, " ".join(cases)))
    for name in names:
        torch.manual_seed(seed + sorted(cases).index(name))
        weights, runs = cases[name]()
        write_case(os.path.join(out, name), weights, runs)
        print("%s: %d weights, %d run(s)" % (name, len(weights), len(runs)))


# ----------------------------------------------------------------------------------------------
# PyTorch state -> cmod parameter paths

def p(prefix, name):
    return prefix + "." + name if prefix else name


def conv_linear(prefix, m):
    out = {p(prefix, "weight"): m.weight.t()}
    if m.bias is not None:
        out[p(prefix, "bias")] = m.bias
    return out


def conv_layernorm(prefix, m):
    return {p(prefix, "gamma"): m.weight, p(prefix, "beta"): m.bias}


def conv_rmsnorm(prefix, m):
    return {p(prefix, "gamma"): m.weight}


def conv_mha(prefix, m):
    """nn.MultiheadAttention (packed in_proj, [out, in]) -> std.nn.MultiHeadAttention q, k, v, o."""
    d = m.embed_dim
    w, b = m.in_proj_weight, m.in_proj_bias
    out = {}
    for i, name in enumerate(["q", "k", "v"]):
        out[p(prefix, name + ".weight")] = w[i * d:(i + 1) * d].t()
        out[p(prefix, name + ".bias")] = b[i * d:(i + 1) * d]
    out.update(conv_linear(p(prefix, "o"), m.out_proj))
    return out


def conv_block(prefix, layer):
    """Pre-norm nn.TransformerEncoderLayer -> std.nn.TransformerBlock (ln1, attn, ln2, ffn.up/down)."""
    out = {}
    out.update(conv_layernorm(p(prefix, "ln1"), layer.norm1))
    out.update(conv_mha(p(prefix, "attn"), layer.self_attn))
    out.update(conv_layernorm(p(prefix, "ln2"), layer.norm2))
    out.update(conv_linear(p(prefix, "ffn.up"), layer.linear1))
    out.update(conv_linear(p(prefix, "ffn.down"), layer.linear2))
    return out


# ----------------------------------------------------------------------------------------------
# reference modules PyTorch 1.13 lacks, and helpers

class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.up = nn.Linear(dim, hidden)
        self.down = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.down(F.gelu(self.up(x)))  # exact (erf) GELU


def causal_mask(s):
    return torch.triu(torch.ones(s, s, dtype=torch.bool), diagonal=1)


def block(dim, heads, hidden=None, norm_first=True):
    return nn.TransformerEncoderLayer(dim, heads, hidden if hidden is not None else 4 * dim, dropout=0.0,
                                      activation="gelu", batch_first=True, norm_first=norm_first)


def run_block(layer, x, causal=False):
    return layer(x, src_mask=causal_mask(x.shape[1]) if causal else None)


def manual_mha(m, x, causal=False, prefix=()):
    """softmax(q k^T / sqrt(d)) v of nn.MultiheadAttention m on x [b, s, d], written out. prefix: a
    list of (k, v) pairs [heads, L, hd] concatenated in front of the projected keys and values, as
    HF peft's past_key_values (with causal, every query sees every prefix position)."""
    b, s, d = x.shape
    h = m.num_heads
    hd = d // h
    q, k, v = F.linear(x, m.in_proj_weight, m.in_proj_bias).chunk(3, dim=-1)
    q, k, v = [t.reshape(b, s, h, hd).transpose(1, 2) for t in (q, k, v)]
    for pk, pv in prefix:
        k = torch.cat([pk.expand(b, -1, -1, -1), k], dim=2)
        v = torch.cat([pv.expand(b, -1, -1, -1), v], dim=2)
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
    if causal:
        n = k.shape[2] - s
        blocked = torch.cat([torch.zeros(s, n, dtype=torch.bool), causal_mask(s)], dim=1)
        scores = scores.masked_fill(blocked, float("-inf"))
    a = torch.softmax(scores, dim=-1) @ v
    return m.out_proj(a.transpose(1, 2).reshape(b, s, d))


def randomize(module):
    """Non-trivial values for parameters PyTorch initializes to constants (norm gains and shifts, biases)."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.LayerNorm, RMSNorm)):
                m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
                if getattr(m, "bias", None) is not None:
                    m.bias.copy_(0.2 * torch.randn_like(m.bias))
            elif isinstance(m, nn.MultiheadAttention):
                m.in_proj_bias.copy_(0.1 * torch.randn_like(m.in_proj_bias))
                m.out_proj.bias.copy_(0.1 * torch.randn_like(m.out_proj.bias))
    module.eval()
    return module


def check_close(a, b, what):
    if not torch.allclose(a, b, rtol=1e-9, atol=1e-10):
        raise SystemExit("internal cross-check failed for %s: max |diff| %g" % (what, (a - b).abs().max().item()))


# ----------------------------------------------------------------------------------------------
# cases: each returns (weights, runs) with runs a list of (inputs, outputs) dicts by port name.
# Weights are float32 tensors; forward functions are called on a float64 copy of the modules.

def f64(x):
    return x.double() if x.is_floating_point() else x


def evaluate(modules, forward, inputs_list):
    """Runs forward(mods64, **inputs64) for each input dict; modules are deep-copied to float64."""
    mods64 = {k: copy.deepcopy(m).double().eval() for k, m in modules.items()}
    runs = []
    with torch.no_grad():
        for inputs in inputs_list:
            outs = forward(mods64, **{k: f64(v) for k, v in inputs.items()})
            runs.append((inputs, {k: v.float() if v.is_floating_point() else v for k, v in outs.items()}))
    return runs
