"""The PyTorch side of scripts/CompileScaling.java: the same N-layer program (Linear(16, 16) and
relu per layer) exported with torch.onnx.export, timed after one warm-up export; prints the median
of R runs per size. Run: /usr/bin/python3 scripts/torch_export_scaling.py 100 1000 10000"""
import io, statistics, sys, time
import torch

def model(n):
    layers = []
    for _ in range(n):
        layers += [torch.nn.Linear(16, 16), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers).eval()

runs = 3
prev = None
print("%8s %12s %12s %10s" % ("layers", "median ms", "ms/layer", "ratio"))
for a in sys.argv[1:]:
    n = int(a)
    m = model(n)
    x = torch.randn(2, 16)
    def export():
        buf = io.BytesIO()
        torch.onnx.export(m, (x,), buf, opset_version=17, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
        return buf
    export()
    times = []
    for _ in range(runs):
        s = time.perf_counter()
        export()
        times.append((time.perf_counter() - s) * 1000)
    med = statistics.median(times)
    ratio = "" if prev is None else "%.2fx for %dx" % (med / prev[1], n // prev[0])
    print("%8d %12.1f %12.4f %10s" % (n, med, med / n, ratio))
    prev = (n, med)
