#!/usr/bin/python3
"""PyTorch reference data for the cmod parity tests (dev.cmod.parity.*Test).

Usage: /usr/bin/python3 parity.py OUTDIR CASE [CASE ...]   (or the single case name "all")

For each CASE this writes, into OUTDIR/CASE/:
  weights.safetensors      every parameter of the cmod model, keyed by its cmod parameter path
                           (language.md section 9), in cmod layouts (Linear weight [in, out])
  run<i>.in.<name>.npy     the model input <name> of run i
  run<i>.out.<name>.npy    PyTorch's value of model output <name> for run i

The reference modules are ordinary PyTorch modules in PyTorch layouts (nn.Linear, nn.LayerNorm,
nn.MultiheadAttention, nn.TransformerEncoderLayer, nn.Conv1d/2d, ...); small converters map their
state to cmod paths. Parameters are random (torch.manual_seed per case) and stored as float32; the
expected outputs are computed in float64 from exactly those float32 values, so the comparison
measures only the compiled model's own float32 error.

Only needs torch and numpy (Debian's python3-torch); safetensors files are written by hand.
"""
import json
import math
import os
import struct
import sys

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
# reference modules PyTorch 1.13 lacks

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


def manual_mha(m, x, causal=False):
    """softmax(q k^T / sqrt(d)) v written out, as a cross-check of the nn.MultiheadAttention reference."""
    b, s, d = x.shape
    h = m.num_heads
    hd = d // h
    q, k, v = F.linear(x, m.in_proj_weight, m.in_proj_bias).chunk(3, dim=-1)
    q, k, v = [t.reshape(b, s, h, hd).transpose(1, 2) for t in (q, k, v)]
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
    if causal:
        scores = scores.masked_fill(causal_mask(s), float("-inf"))
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


# ----------------------------------------------------------------------------------------------
# cases: each returns (weights, runs) with runs a list of (inputs, outputs) dicts by port name.
# Weights are float32 tensors; forward functions are called on a float64 copy of the modules.

def f64(x):
    return x.double() if x.is_floating_point() else x


def evaluate(modules, forward, inputs_list):
    """Runs forward(mods64, **inputs64) for each input dict; modules are deep-copied to float64."""
    import copy
    mods64 = {k: copy.deepcopy(m).double().eval() for k, m in modules.items()}
    runs = []
    with torch.no_grad():
        for inputs in inputs_list:
            outs = forward(mods64, **{k: f64(v) for k, v in inputs.items()})
            runs.append((inputs, {k: v.float() if v.is_floating_point() else v for k, v in outs.items()}))
    return runs


def case_linear():
    m = {"proj": nn.Linear(12, 7), "nobias": nn.Linear(12, 5, bias=False)}
    w = {}
    w.update(conv_linear("proj", m["proj"]))
    w.update(conv_linear("nobias", m["nobias"]))
    xs = [{"x": torch.randn(2, 5, 12)}, {"x": torch.randn(3, 1, 12)}]
    return w, evaluate(m, lambda mm, x: {"y": mm["proj"](x), "z": mm["nobias"](x)}, xs)


def case_embedding():
    m = {"emb": nn.Embedding(50, 16)}
    w = {"emb.table": m["emb"].weight}
    xs = [{"ids": torch.randint(0, 50, (2, 6))}, {"ids": torch.tensor([[0, 49, 7]])}]
    return w, evaluate(m, lambda mm, ids: {"y": mm["emb"](ids)}, xs)


def case_layernorm():
    m = {"ln": randomize(nn.LayerNorm(16)), "wide": randomize(nn.LayerNorm(16, eps=0.5))}
    w = {}
    w.update(conv_layernorm("ln", m["ln"]))
    w.update(conv_layernorm("wide", m["wide"]))
    xs = [{"x": 3 * torch.randn(2, 5, 16) + 1}]
    return w, evaluate(m, lambda mm, x: {"y": mm["ln"](x), "z": mm["wide"](x)}, xs)


def case_rmsnorm():
    m = {"rms": randomize(RMSNorm(16)), "wide": randomize(RMSNorm(16, eps=0.5))}
    w = {}
    w.update(conv_rmsnorm("rms", m["rms"]))
    w.update(conv_rmsnorm("wide", m["wide"]))
    xs = [{"x": torch.randn(2, 5, 16)}]
    return w, evaluate(m, lambda mm, x: {"y": mm["rms"](x), "z": mm["wide"](x)}, xs)


def case_mlp():
    m = {"a": Mlp(16, 40), "b": Mlp(16, 64)}
    w = {}
    w.update(conv_linear("a.up", m["a"].up))
    w.update(conv_linear("a.down", m["a"].down))
    w.update(conv_linear("b.up", m["b"].up))
    w.update(conv_linear("b.down", m["b"].down))
    xs = [{"x": 2 * torch.randn(2, 5, 16)}]
    return w, evaluate(m, lambda mm, x: {"y": mm["b"](mm["a"](x))}, xs)


def case_mha():
    m = {"attn": randomize(nn.MultiheadAttention(16, 4, batch_first=True)),
         "masked": randomize(nn.MultiheadAttention(16, 2, batch_first=True))}
    w = {}
    w.update(conv_mha("attn", m["attn"]))
    w.update(conv_mha("masked", m["masked"]))

    def fwd(mm, x):
        s = x.shape[1]
        y = mm["attn"](x, x, x, need_weights=False)[0]
        yc = mm["masked"](x, x, x, attn_mask=causal_mask(s), need_weights=False)[0]
        check_close(y, manual_mha(mm["attn"], x), "mha")
        check_close(yc, manual_mha(mm["masked"], x, causal=True), "causal mha")
        return {"y": y, "yc": yc}

    xs = [{"x": torch.randn(2, 5, 16)}, {"x": torch.randn(1, 7, 16)}]
    return w, evaluate(m, fwd, xs)


def case_transformer_block():
    m = {"enc": randomize(block(16, 2)), "dec": randomize(block(16, 4, hidden=24))}
    w = {}
    w.update(conv_block("enc", m["enc"]))
    w.update(conv_block("dec", m["dec"]))
    xs = [{"x": torch.randn(2, 6, 16)}, {"x": torch.randn(3, 3, 16)}]
    return w, evaluate(m, lambda mm, x: {"y": run_block(mm["enc"], x), "yc": run_block(mm["dec"], x, causal=True)}, xs)


def case_conv2d():
    m = {"c1": nn.Conv2d(3, 4, 3, stride=2, padding=1), "c2": nn.Conv2d(4, 6, 2, bias=False)}
    w = {"c1.weight": m["c1"].weight, "c1.bias": m["c1"].bias, "c2.weight": m["c2"].weight}
    xs = [{"img": torch.randn(2, 3, 9, 9)}]
    return w, evaluate(m, lambda mm, img: {"y": mm["c2"](mm["c1"](img))}, xs)


def case_patch_embed():
    # The ViT-style strided convolution: the same linear map as patchify + Linear, computed differently.
    conv = nn.Conv2d(3, 16, 4, stride=4)
    m = {"conv": conv}
    w = {"embed.proj.weight": conv.weight.reshape(16, -1).t(), "embed.proj.bias": conv.bias}
    xs = [{"img": torch.randn(2, 3, 8, 12)}]
    return w, evaluate(m, lambda mm, img: {"y": mm["conv"](img).flatten(2).transpose(1, 2)}, xs)


def case_mlp_inline():
    m = {"l0": nn.Linear(8, 16), "l1": nn.Linear(16, 4)}
    w = {}
    w.update(conv_linear("Linear_0", m["l0"]))
    w.update(conv_linear("Linear_1", m["l1"]))
    xs = [{"x": torch.randn(3, 8)}]
    return w, evaluate(m, lambda mm, x: {"y": mm["l1"](torch.relu(mm["l0"](x)))}, xs)


def case_own_encoder():
    # Post-norm encoder layers (like nn.TransformerEncoderLayer's default), layer_norm eps 1e-6,
    # written in cmod with its own modules: layers.<i>.{attn.{wq,bq,...}, norm1, fc1, fc2, norm2},
    # then a final norm; outputs the sequence and its mean over the sequence.
    dim, heads, hidden = 32, 4, 64
    layers = [randomize(block(dim, heads, hidden, norm_first=False)) for _ in range(2)]
    final = randomize(nn.LayerNorm(dim, eps=1e-6))
    for layer in layers:
        layer.norm1.eps = 1e-6
        layer.norm2.eps = 1e-6
    w = {}
    for i, layer in enumerate(layers):
        pre = "layers.%d" % i
        d = dim
        wi, bi = layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias
        for j, name in enumerate("qkv"):
            w[pre + ".attn.w" + name] = wi[j * d:(j + 1) * d].t()
            w[pre + ".attn.b" + name] = bi[j * d:(j + 1) * d]
        w[pre + ".attn.wo"] = layer.self_attn.out_proj.weight.t()
        w[pre + ".attn.bo"] = layer.self_attn.out_proj.bias
        for n in ("norm1", "norm2"):
            w[pre + "." + n + ".g"] = getattr(layer, n).weight
            w[pre + "." + n + ".b"] = getattr(layer, n).bias
        for n, lin in (("fc1", layer.linear1), ("fc2", layer.linear2)):
            w[pre + "." + n + ".w"] = lin.weight.t()
            w[pre + "." + n + ".b"] = lin.bias
    w["final.g"] = final.weight
    w["final.b"] = final.bias
    m = {"l0": layers[0], "l1": layers[1], "final": final}

    def fwd(mm, x):
        h = mm["final"](mm["l1"](mm["l0"](x)))
        return {"y": h, "pooled": h.mean(1)}

    xs = [{"x": torch.randn(2, 5, dim)}, {"x": torch.randn(3, 9, dim)}]
    return w, evaluate(m, fwd, xs)


# ---- the samples in samples/*.cmod

class PatchClassifier(nn.Module):
    def __init__(self, dim=64, heads=4, patch=8):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        self.pos = nn.Parameter(0.02 * torch.randn(16, dim))
        self.cls = nn.Parameter(0.02 * torch.randn(1, 1, dim))
        self.blocks = nn.ModuleList([block(dim, heads) for _ in range(2)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, image):
        t = self.patch(image).flatten(2).transpose(1, 2) + self.pos
        h = torch.cat([self.cls.expand(image.shape[0], 1, -1), t], 1)
        for b in self.blocks:
            h = b(h)
        return {"logits": self.head(self.norm(h)[:, 0])}

    def cmod_weights(self):
        dim = self.pos.shape[1]
        w = {"pos": self.pos, "cls": self.cls, "embed.proj.weight": self.patch.weight.reshape(dim, -1).t(),
             "embed.proj.bias": self.patch.bias}
        for i, b in enumerate(self.blocks):
            w.update(conv_block("blocks.%d" % i, b))
        w.update(conv_layernorm("norm", self.norm))
        w.update(conv_linear("head", self.head))
        return w


class TinyLM(nn.Module):
    def __init__(self, vocab=1000, dim=64):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        with torch.no_grad():
            self.tok.weight.mul_(0.5)
        self.pos = nn.Parameter(0.1 * torch.randn(128, dim))
        self.blocks = nn.ModuleList([block(dim, 4) for _ in range(2)])
        self.norm = RMSNorm(dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)

    def forward(self, tokens):
        h = self.tok(tokens) + self.pos[:tokens.shape[1]]
        for b in self.blocks:
            h = run_block(b, h, causal=True)
        logits = self.lm_head(self.norm(h))
        return {"logits": logits, "next": F.log_softmax(logits[:, -1], dim=-1)}

    def cmod_weights(self):
        w = {"tok.table": self.tok.weight, "pos": self.pos}
        for i, b in enumerate(self.blocks):
            w.update(conv_block("blocks.%d" % i, b))
        w.update(conv_rmsnorm("norm", self.norm))
        w.update(conv_linear("lm_head", self.lm_head))
        return w


class KeywordSpotter(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(1, 32, 400, stride=160)
        self.c2 = nn.Conv1d(32, 32, 3, padding=1)
        self.block = block(32, 4)
        self.norm = nn.LayerNorm(32)
        self.head = nn.Linear(32, 12)

    def forward(self, audio):
        h = torch.relu(self.c1(audio.unsqueeze(1)))
        h = torch.relu(self.c2(h)).transpose(1, 2)
        h = self.norm(self.block(h))
        return {"keyword": self.head(h.mean(1))}

    def cmod_weights(self):
        w = {"front.w1": self.c1.weight, "front.b1": self.c1.bias, "front.w2": self.c2.weight, "front.b2": self.c2.bias}
        w.update(conv_block("block", self.block))
        w.update(conv_layernorm("norm", self.norm))
        w.update(conv_linear("head", self.head))
        return w


def sample_case(model, inputs_list):
    model = randomize(model)
    return model.cmod_weights(), evaluate({"m": model}, lambda mm, **kw: mm["m"](**kw), inputs_list)


def case_image_classifier():
    return sample_case(PatchClassifier(), [{"image": torch.randn(2, 3, 32, 32)}])


def case_text_transformer():
    return sample_case(TinyLM(), [{"tokens": torch.randint(0, 1000, (2, 7))}, {"tokens": torch.randint(0, 1000, (1, 3))}])


def case_audio_keyword():
    return sample_case(KeywordSpotter(), [{"audio": torch.randn(2, 16000)}])


# ----------------------------------------------------------------------------------------------

def check_close(a, b, what):
    if not torch.allclose(a, b, rtol=1e-9, atol=1e-10):
        raise SystemExit("internal cross-check failed for %s: max |diff| %g" % (what, (a - b).abs().max().item()))


CASES = {
    "linear": case_linear,
    "embedding": case_embedding,
    "layernorm": case_layernorm,
    "rmsnorm": case_rmsnorm,
    "mlp": case_mlp,
    "mha": case_mha,
    "transformer_block": case_transformer_block,
    "conv2d": case_conv2d,
    "patch_embed": case_patch_embed,
    "mlp_inline": case_mlp_inline,
    "own_encoder": case_own_encoder,
    "image_classifier": case_image_classifier,
    "text_transformer": case_text_transformer,
    "audio_keyword": case_audio_keyword,
}


def main(argv):
    if len(argv) < 3:
        raise SystemExit("usage: parity.py OUTDIR CASE [CASE ...]  (cases: %s, or all)" % " ".join(CASES))
    out = argv[1]
    names = list(CASES) if argv[2:] == ["all"] else argv[2:]
    for name in names:
        if name not in CASES:
            raise SystemExit("unknown case '%s' (cases: %s)" % (name, " ".join(CASES)))
    for i, name in enumerate(names):
        torch.manual_seed(1000 + sorted(CASES).index(name))
        weights, runs = CASES[name]()
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        write_safetensors(os.path.join(d, "weights.safetensors"), weights)
        for r, (inputs, outputs) in enumerate(runs):
            for k, v in inputs.items():
                save_npy(os.path.join(d, "run%d.in.%s.npy" % (r, k)), v)
            for k, v in outputs.items():
                save_npy(os.path.join(d, "run%d.out.%s.npy" % (r, k)), v)
        print("%s: %d weights, %d run(s)" % (name, len(weights), len(runs)))


if __name__ == "__main__":
    main(sys.argv)
