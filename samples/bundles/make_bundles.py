"""Writes the two small weight bundles used by detox.cmod (deterministic; numpy only).

style.safetensors: a full delta for up.weight [16, 32]
toxic.safetensors: a rank-2 LoRA delta for down.weight [32, 16] (lora_a [32, 2], lora_b [2, 16])
"""
import json
import struct
import sys

import numpy as np


def write(path, tensors):
    offset, header, blobs = 0, {}, []
    for key in sorted(tensors):
        data = np.ascontiguousarray(tensors[key], dtype="<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(tensors[key].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


rng = np.random.default_rng(2026)
folder = sys.argv[1] if len(sys.argv) > 1 else "."
write(f"{folder}/style.safetensors", {"up.weight": 0.05 * rng.standard_normal((16, 32))})
write(f"{folder}/toxic.safetensors", {"down.weight.lora_a": 0.2 * rng.standard_normal((32, 2)),
                                      "down.weight.lora_b": 0.2 * rng.standard_normal((2, 16))})
