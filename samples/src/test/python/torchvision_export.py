# Exports a torchvision CNN (random weights, seeded) to ONNX at opset 17 with a symbolic batch,
# as a PyTorch user would: python3 torchvision_export.py NAME OUT.onnx
import sys, torch, torchvision
torch.manual_seed(0)
name, out = sys.argv[1], sys.argv[2]
ctor = getattr(torchvision.models, name)
kw = {"weights": None}
if name == "googlenet":
    kw.update(aux_logits=False, init_weights=True)
m = ctor(**kw).eval()
x = torch.randn(1, 3, 96, 96)
args = dict(input_names=["image"], output_names=["logits"], dynamic_axes={"image": {0: "n"}, "logits": {0: "n"}}, opset_version=17)
try:
    torch.onnx.export(m, (x,), out, dynamo=False, **args)
except TypeError:
    torch.onnx.export(m, (x,), out, **args)
