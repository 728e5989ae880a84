# Writes small random Hugging Face-style checkpoints for the samples in this folder: PyTorch
# modules with the attribute names of transformers' BertModel and ViTModel (so their state dicts
# have the keys those classes save), saved as model.safetensors without the safetensors package.
# With --reference, also writes an input and the PyTorch output for each, for the sample tests.
#   python3 samples/hf/make_checkpoints.py samples/hf/models [--reference DIR]
import json
import math
import os
import struct
import sys

import numpy as np
import torch
from torch import nn


def save_safetensors(path, state):
    header, blobs, off = {}, [], 0
    for k in sorted(state):
        b = np.ascontiguousarray(state[k].detach().numpy(), dtype=np.float32).tobytes()
        header[k] = {"dtype": "F32", "shape": list(state[k].shape),
                     "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class SelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x):
        b, s, d = x.shape
        split = lambda t: t.view(b, s, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1)
        return (p @ v).transpose(1, 2).reshape(b, s, d)


class Dense(nn.Module):
    def __init__(self, i, o, norm=None):
        super().__init__()
        self.dense = nn.Linear(i, o)
        if norm is not None:
            self.LayerNorm = nn.LayerNorm(o, eps=norm)


class BertAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        setattr(self, "self", SelfAttention(d, heads))
        self.output = Dense(d, d, 1e-12)

    def forward(self, x):
        return self.output.LayerNorm(self.output.dense(getattr(self, "self")(x)) + x)


class BertLayer(nn.Module):
    def __init__(self, d, heads, hidden):
        super().__init__()
        self.attention = BertAttention(d, heads)
        self.intermediate = Dense(d, hidden)
        self.output = Dense(hidden, d, 1e-12)

    def forward(self, x):
        h = self.attention(x)
        i = nn.functional.gelu(self.intermediate.dense(h))
        return self.output.LayerNorm(self.output.dense(i) + h)


class BertEmbeddings(nn.Module):
    def __init__(self, vocab, d, max_pos):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, d)
        self.position_embeddings = nn.Embedding(max_pos, d)
        self.token_type_embeddings = nn.Embedding(2, d)
        self.LayerNorm = nn.LayerNorm(d, eps=1e-12)

    def forward(self, ids):
        pos = torch.arange(ids.shape[1])
        e = self.word_embeddings(ids) + self.position_embeddings(pos)
        return self.LayerNorm(e + self.token_type_embeddings(torch.zeros_like(ids)))


class Encoder(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layer = nn.ModuleList(layers)


class Bert(nn.Module):
    def __init__(self, vocab=1000, d=64, n=2, heads=4, hidden=128, max_pos=64):
        super().__init__()
        self.embeddings = BertEmbeddings(vocab, d, max_pos)
        self.encoder = Encoder([BertLayer(d, heads, hidden) for _ in range(n)])
        self.pooler = Dense(d, d)

    def forward(self, ids):
        h = self.embeddings(ids)
        for layer in self.encoder.layer:
            h = layer(h)
        return h


class ViTAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.attention = SelfAttention(d, heads)
        self.output = Dense(d, d)


class ViTLayer(nn.Module):
    def __init__(self, d, heads, hidden):
        super().__init__()
        self.layernorm_before = nn.LayerNorm(d)
        self.attention = ViTAttention(d, heads)
        self.layernorm_after = nn.LayerNorm(d)
        self.intermediate = Dense(d, hidden)
        self.output = Dense(hidden, d)

    def forward(self, x):
        a = self.attention
        h = x + a.output.dense(a.attention(self.layernorm_before(x)))
        i = nn.functional.gelu(self.intermediate.dense(self.layernorm_after(h)))
        return h + self.output.dense(i)


class PatchEmbeddings(nn.Module):
    def __init__(self, d, patch):
        super().__init__()
        self.projection = nn.Conv2d(3, d, patch, stride=patch)


class ViTEmbeddings(nn.Module):
    def __init__(self, size, patch, d):
        super().__init__()
        self.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.5)
        n = (size // patch) ** 2
        self.position_embeddings = nn.Parameter(torch.randn(1, n + 1, d) * 0.5)
        self.patch_embeddings = PatchEmbeddings(d, patch)

    def forward(self, x):
        t = self.patch_embeddings.projection(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        return torch.cat([cls, t], dim=1) + self.position_embeddings


class ViT(nn.Module):
    def __init__(self, size=32, patch=8, d=64, n=2, heads=4, hidden=128):
        super().__init__()
        self.embeddings = ViTEmbeddings(size, patch, d)
        self.encoder = Encoder([ViTLayer(d, heads, hidden) for _ in range(n)])
        self.layernorm = nn.LayerNorm(d)

    def forward(self, x):
        h = self.embeddings(x)
        for layer in self.encoder.layer:
            h = layer(h)
        return self.layernorm(h)


def randomize_norms(model):
    # LayerNorm starts as the identity map; give it values a wrong mapping would show
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
                m.bias.copy_(0.2 * torch.randn_like(m.bias))


def main():
    out = sys.argv[1]
    ref = sys.argv[sys.argv.index("--reference") + 1] if "--reference" in sys.argv else None
    torch.manual_seed(0)
    bert, vit = Bert(), ViT()
    for model in (bert, vit):
        randomize_norms(model)
        model.eval()
    save_safetensors(os.path.join(out, "bert-style", "model.safetensors"), bert.state_dict())
    save_safetensors(os.path.join(out, "vit-style", "model.safetensors"), vit.state_dict())
    if ref is not None:
        os.makedirs(ref, exist_ok=True)
        ids = torch.randint(0, 1000, (2, 10))
        image = torch.rand(2, 3, 32, 32)
        with torch.no_grad():
            np.save(os.path.join(ref, "bert_ids.npy"), ids.numpy())
            np.save(os.path.join(ref, "bert_hidden.npy"), bert(ids).numpy())
            np.save(os.path.join(ref, "vit_image.npy"), image.numpy())
            np.save(os.path.join(ref, "vit_hidden.npy"), vit(image).numpy())
    print("ok")


main()
