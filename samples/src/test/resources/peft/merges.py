# The reference for cmod's merge builtins, written independently of cmod in numpy: base weights,
# task-vector bundles, the merged parameters (TIES, DARE, task arithmetic) and the merged models'
# outputs on one input, all written into the current folder.
#   TIES (PEFT's ties with majority_sign_method="total"): per parameter tensor, keep the
#     floor(density * n) entries of each task vector with the largest magnitude, elect the sign of
#     the summed trimmed vectors (ties give +), average the weighted entries that agree with it.
#   DARE (PEFT's dare_linear): drop each entry with probability p, rescale by 1 / (1 - p), add
#     the weighted vectors; the masks come from cmod's documented SplitMix64 stream.
import json
import struct

import numpy as np
import torch

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def stream_key(seed, rel, i):
    h = 0xCBF29CE484222325
    for b in rel.encode():
        h = ((h ^ b) * 0x100000001B3) & M64
    return mix(mix(mix(seed & M64) ^ h) ^ i)


def keep_mask(seed, rel, i, n, p):
    key = stream_key(seed, rel, i)
    u = np.array([(mix((key + (j + 1) * GOLDEN) & M64) >> 11) * 2.0 ** -53 for j in range(n)])
    return u >= p


def ties(base, deltas, weights, density, scale):
    trimmed = []
    for d in deltas:
        flat = d.reshape(-1)
        k = int(density * flat.size)
        keep = np.argsort(-np.abs(flat), kind="stable")[:k]
        t = np.zeros_like(flat)
        t[keep] = flat[keep]
        trimmed.append(t)
    trimmed = np.stack(trimmed)
    sign = np.where(trimmed.sum(axis=0) >= 0, 1.0, -1.0)
    agree = np.sign(trimmed) == sign
    w = np.array(weights)[:, None]
    merged = (trimmed * w * agree).sum(axis=0) / np.maximum(agree.sum(axis=0), 1)
    return (base.reshape(-1) + scale * merged).reshape(base.shape)


def dare(base, deltas, weights, p, seed, scale, rel):
    merged = np.zeros(base.size)
    for i, d in enumerate(deltas):
        keep = keep_mask(seed, rel, i, d.size, p)
        merged += weights[i] * np.where(keep, d.reshape(-1) / (1 - p), 0.0)
    return (base.reshape(-1) + scale * merged).reshape(base.shape)


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        b = np.ascontiguousarray(tensors[k], dtype=np.float32).tobytes()
        header[k] = {"dtype": "F32", "shape": list(tensors[k].shape),
                     "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


rng = np.random.default_rng(4)
SHAPES = {"up.weight": (8, 16), "up.bias": (16,), "down.weight": (16, 8), "down.bias": (8,)}


def f32(a):
    return a.astype(np.float32).astype(np.float64)


def rand(shape, s=1.0):
    return f32(rng.standard_normal(shape) * s)


base = {}
for layer in ["mlp", "s.0", "s.1"]:
    for k, shape in SHAPES.items():
        base[layer + "." + k] = rand(shape, 0.4)
save_safetensors("base.safetensors", base)

# bundles relative to the Mlp (a, b, c: c holds a factor pair for up.weight) and to the stack
bundles = {}
for name in ["a", "b"]:
    bundles[name] = {k: rand(shape, 0.2) for k, shape in SHAPES.items()}
bundles["c"] = {"up.weight.lora_a": rand((8, 2), 0.5), "up.weight.lora_b": rand((2, 16), 0.5),
                "down.bias": rand((8,), 0.2)}
for name in ["sa", "sb"]:
    bundles[name] = {layer + "." + k: rand(shape, 0.2)
                     for layer in ["0", "1"] for k, shape in SHAPES.items()}
for name, t in bundles.items():
    save_safetensors(name + ".safetensors", t)


def delta(bundle, rel):
    if rel in bundle:
        return bundle[rel]
    if rel + ".lora_a" in bundle:
        return bundle[rel + ".lora_a"] @ bundle[rel + ".lora_b"]
    return np.zeros(SHAPES[rel.split(".", 1)[1] if rel[0].isdigit() else rel])


def merged_params(kind, prefix, names, **kw):
    out = {}
    rels = [layer + k for layer in prefix for k in SHAPES]
    for rel in rels:
        src = ("mlp." if prefix == [""] else "s.") + rel
        ds = [delta(bundles[n], rel) for n in names]
        w = kw.get("weights", [1.0] * len(names))
        if kind == "ties":
            out[rel] = ties(base[src], ds, w, kw["density"], kw.get("scale", 1.0))
        elif kind == "dare":
            out[rel] = dare(base[src], ds, w, kw["p"], kw["seed"], kw.get("scale", 1.0), rel)
        else:
            out[rel] = base[src] + kw["scale"] * sum(ds)
    return out


W3 = [1.0, 0.5, 2.0]
merges = {
    "tm": merged_params("ties", [""], ["a", "b", "c"], density=0.3, weights=W3, scale=0.8),
    "dm": merged_params("dare", [""], ["a", "b", "c"], p=0.6, seed=11, weights=W3),
    "ts": merged_params("sum", ["0.", "1."], ["sa", "sb"], scale=0.5),
    "ds": merged_params("dare", ["0.", "1."], ["sa", "sb"], p=0.3, seed=3),
    "tt": merged_params("ties", ["0.", "1."], ["sa", "sb"], density=0.5),
}
# an imported ONNX model (y = x @ w + b, its weights the initializers w and b) as the base
import onnx
from onnx import TensorProto, helper, numpy_helper

lin = {"w": rand((8, 4), 0.4), "b": rand((4,), 0.4)}
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
    "lin",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
    [numpy_helper.from_array(v.astype(np.float32), k) for k, v in lin.items()])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "lin.onnx")
for name in ["ia", "ib"]:
    bundles[name] = {"w": rand((8, 4), 0.2), "b": rand((4,), 0.2)}
    save_safetensors(name + ".safetensors", bundles[name])
merges["it"] = {k: lin[k] + 0.5 * (bundles["ia"][k] + bundles["ib"][k]) for k in lin}
merges["iti"] = {k: ties(lin[k], [bundles["ia"][k], bundles["ib"][k]], [1.0, 1.0], 0.5, 1.0)
                 for k in lin}
merges["idr"] = {k: dare(lin[k], [bundles["ia"][k], bundles["ib"][k]], [1.0, 1.0], 0.5, 5, 1.0, k)
                 for k in lin}

flat = {}
for name, params in merges.items():
    for rel, v in params.items():
        flat[name + "." + rel] = v
save_safetensors("merged.safetensors", flat)

x = rng.standard_normal((3, 8)).astype(np.float32)
np.save("x.npy", x)


def mlp(h, p, prefix):
    t = torch.from_numpy(h)
    w = {k: torch.from_numpy(v.astype(np.float32)) for k, v in p.items()}
    t = torch.nn.functional.gelu(t @ w[prefix + "up.weight"] + w[prefix + "up.bias"])
    return (t @ w[prefix + "down.weight"] + w[prefix + "down.bias"]).numpy()


for name, params in merges.items():
    if name in ("it", "iti", "idr"):
        y = (x @ params["w"] + params["b"]).astype(np.float32)
    elif name in ("tm", "dm"):
        y = mlp(x, params, "")
    else:
        y = mlp(mlp(x, params, "0."), params, "1.")
    np.save("y_" + name + ".npy", y)
print("ok")
