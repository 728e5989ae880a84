# Writes PEFT checkpoints and their PyTorch reference outputs into the current folder, without the
# peft or safetensors packages: the key layout, config and math are PEFT's, reproduced here.
#   LoRA:  W' = W + s * (B @ A), s = lora_alpha / r (or lora_alpha / sqrt(r) with use_rslora)
#   IA3:   y = (x @ W.T + b) * l for attention targets, y = (x * l) @ W.T + b for feed-forward ones
import json
import math
import os
import struct

import numpy as np
import torch


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k].detach().numpy().astype(np.float32))
        b = a.tobytes()
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def save_npy(path, t):
    np.save(path, t.detach().numpy().astype(np.float32))


class Net(torch.nn.Module):
    def __init__(self, d=8, h=16):
        super().__init__()
        self.fc1 = torch.nn.Linear(d, h)
        self.fc2 = torch.nn.Linear(h, d)

    def forward(self, x):
        return self.fc2(torch.nn.functional.gelu(self.fc1(x)))


class Wrapper(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = Net()

    def forward(self, x):
        return self.body(x)


def cmod_base(net, prefix, names):
    # cmod's Linear.weight is [in, out], the transpose of PyTorch's
    out = {}
    for torch_name, cmod_name in names.items():
        layer = getattr(net, torch_name)
        out[prefix + cmod_name + ".weight"] = layer.weight.detach().t()
        out[prefix + cmod_name + ".bias"] = layer.bias.detach()
    return out


def export(model, x, path):
    # PyTorch's own ONNX export of the base (Linear on 2-D input becomes Gemm with transB = 1)
    torch.onnx.export(model, x, path, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=17)


def lora_case(folder, r, alpha, rslora, cmod_prefix, cmod_names, seed):
    torch.manual_seed(seed)
    model = Wrapper()
    x = torch.randn(3, 8)
    os.makedirs(folder + "/adapter", exist_ok=True)
    scale = alpha / math.sqrt(r) if rslora else alpha / r
    factors = {}
    merged = Wrapper()
    merged.load_state_dict(model.state_dict())
    for name in ["fc1", "fc2"]:
        layer = getattr(model.body, name)
        a = torch.randn(r, layer.in_features) * 0.3
        b = torch.randn(layer.out_features, r) * 0.3
        factors["base_model.model.body." + name + ".lora_A.weight"] = a
        factors["base_model.model.body." + name + ".lora_B.weight"] = b
        with torch.no_grad():
            getattr(merged.body, name).weight += scale * (b @ a)
    save_safetensors(folder + "/adapter/adapter_model.safetensors", factors)
    config = {
        "peft_type": "LORA", "task_type": None, "r": r, "lora_alpha": alpha,
        "lora_dropout": 0.0, "target_modules": ["fc1", "fc2"], "use_rslora": rslora,
        "fan_in_fan_out": False, "bias": "none", "modules_to_save": None,
        "init_lora_weights": True, "rank_pattern": {}, "alpha_pattern": {},
        "base_model_name_or_path": None, "inference_mode": True,
    }
    with open(folder + "/adapter/adapter_config.json", "w") as f:
        json.dump(config, f, indent=2)
    save_safetensors(folder + "/base.safetensors",
                     cmod_base(model.body, cmod_prefix, cmod_names))
    export(model, x, folder + "/net.onnx")
    save_npy(folder + "/x.npy", x)
    with torch.no_grad():
        save_npy(folder + "/y.npy", merged(x))


def ia3_case(folder, seed):
    torch.manual_seed(seed)
    model = Wrapper()
    x = torch.randn(3, 8)
    os.makedirs(folder + "/adapter", exist_ok=True)
    l1 = 1 + 0.5 * torch.randn(16, 1)  # fc1: an attention-style target, scales the output
    l2 = 1 + 0.5 * torch.randn(1, 16)  # fc2: a feed-forward target, scales the input
    save_safetensors(folder + "/adapter/adapter_model.safetensors", {
        "base_model.model.body.fc1.ia3_l.weight": l1,
        "base_model.model.body.fc2.ia3_l.weight": l2,
    })
    config = {
        "peft_type": "IA3", "task_type": None, "target_modules": ["fc1", "fc2"],
        "feedforward_modules": ["fc2"], "fan_in_fan_out": False, "modules_to_save": None,
        "init_ia3_weights": True, "inference_mode": True,
    }
    with open(folder + "/adapter/adapter_config.json", "w") as f:
        json.dump(config, f, indent=2)
    save_safetensors(folder + "/base.safetensors",
                     cmod_base(model.body, "net.", {"fc1": "fc1", "fc2": "fc2"}))
    export(model, x, folder + "/net.onnx")
    body = model.body
    with torch.no_grad():
        h = body.fc1(x) * l1.flatten()
        y = body.fc2(torch.nn.functional.gelu(h) * l2.flatten())
    save_npy(folder + "/x.npy", x)
    save_npy(folder + "/y.npy", y)


class Stack(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([Net(), Net()])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def lora_stack_case(folder, r, alpha, seed):
    # a LoRA on every layer of a stack: model.layers.<i>.fc1 maps to the stack's <i>.fc1
    torch.manual_seed(seed)
    model = torch.nn.Module()
    model.model = Stack()
    x = torch.randn(3, 8)
    os.makedirs(folder + "/adapter", exist_ok=True)
    factors, base = {}, {}
    merged = Stack()
    merged.load_state_dict(model.model.state_dict())
    for i in range(2):
        for name in ["fc1", "fc2"]:
            layer = getattr(model.model.layers[i], name)
            a = torch.randn(r, layer.in_features) * 0.3
            b = torch.randn(layer.out_features, r) * 0.3
            key = "base_model.model.model.layers.%d.%s" % (i, name)
            factors[key + ".lora_A.weight"] = a
            factors[key + ".lora_B.weight"] = b
            with torch.no_grad():
                getattr(merged.layers[i], name).weight += (alpha / r) * (b @ a)
        base.update(cmod_base(model.model.layers[i], "s.%d." % i, {"fc1": "fc1", "fc2": "fc2"}))
    save_safetensors(folder + "/adapter/adapter_model.safetensors", factors)
    config = {"peft_type": "LORA", "r": r, "lora_alpha": alpha, "target_modules": ["fc1", "fc2"],
              "use_rslora": False, "fan_in_fan_out": False, "bias": "none"}
    with open(folder + "/adapter/adapter_config.json", "w") as f:
        json.dump(config, f, indent=2)
    save_safetensors(folder + "/base.safetensors", base)
    save_npy(folder + "/x.npy", x)
    with torch.no_grad():
        save_npy(folder + "/y.npy", merged(x))


lora_stack_case("lora_stack", 2, 3, 4)
lora_case("lora_auto", 4, 16, False, "net.", {"fc1": "fc1", "fc2": "fc2"}, 1)
lora_case("lora_map", 4, 8, True, "mlp.", {"fc1": "up", "fc2": "down"}, 2)
ia3_case("ia3", 3)
print("ok")
