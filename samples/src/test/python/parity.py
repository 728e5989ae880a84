#!/usr/bin/python3
"""PyTorch reference data for the cmod parity corpus (pytorch-parity.cases, checked by
dev.cmod.parity.PyTorchParityTest): std.nn, language features and the shipped samples.

Usage: /usr/bin/python3 parity.py OUTDIR CASE [CASE ...]   (or the single case name "all")

The case folder layout, the file writers and the shared reference pieces are in parity_common.py.
The reference modules are ordinary PyTorch modules in PyTorch layouts (nn.Linear, nn.LayerNorm,
nn.MultiheadAttention, nn.TransformerEncoderLayer, nn.Conv1d/2d, ...); small converters map their
state to cmod paths.
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # importing the shared module must not leave __pycache__ in the source tree
from parity_common import (RMSNorm, Mlp, block, causal_mask, check_close, conv_block, conv_layernorm,  # noqa: E402
                           cases, conv_linear, conv_mha, conv_rmsnorm, evaluate, main, manual_mha, randomize,
                           run_block)


# ----------------------------------------------------------------------------------------------
# cases: each returns (weights, runs) with runs a list of (inputs, outputs) dicts by port name
# (see parity_common.evaluate).

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


if __name__ == "__main__":
    main(sys.argv, cases(globals()), 1000)
