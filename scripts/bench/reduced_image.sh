#!/usr/bin/env bash
# Latency and peak memory of a structure-reduced image model against its input size.
# The model (a ViT-style block over 8x8 patches, d = 64, 4 heads) declares `budget { tokens <= 64 }`:
# at 128^2 and above its attention would see more than 64 tokens, so the compiler pools keys and
# values to 64 summaries (warning CM0213) and the attention costs queries x 64, linear in pixels.
# The same model without the budget (dense attention, quadratic) is run beside it up to 512^2.
# For each size: compile at -O2, then scripts/bench/RunOnce.java runs it on one thread in a JVM of
# its own and reports the median latency and the process's peak resident memory (VmHWM). Prints one table row per size and model, then the
# fitted exponent of latency and of peak memory above the smallest size's against pixel count.
# Usage: bash scripts/bench/reduced_image.sh [iterations]   (from the repository root)
set -euo pipefail
iters="${1:-20}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rows="$tmp/rows"
for kind in reduced dense; do
  for s in 64 128 256 512 1024; do
    [[ "$kind" == dense && "$s" -gt 512 ]] && continue
    budget=""
    [[ "$kind" == reduced ]] && budget="budget { tokens <= 64 }"
    cat >"$tmp/m$s.cmod" <<CMOD
import std.nn.{PatchEmbed, TransformerBlock, Linear}
model Reduced {
  $budget
  input image: exact f32[1, 3, $s, $s]
  let h = PatchEmbed(3, 8, 64)(image) |> TransformerBlock(64, 4)
  output y: exact f32[1, 10] = Linear(64, 10)(mean(h, 1))
}
CMOD
    ./cmod compile "$tmp/m$s.cmod" -O2 -o "$tmp/m$s.onnx" >/dev/null
    read -r p50 rss < <(java -Xmx256m -cp "cli/target/lib/*" scripts/bench/RunOnce.java \
      "$tmp/m$s.onnx" image "1,3,$s,$s" 3 "$iters")
    echo "$kind $s $p50 $rss" | tee -a "$rows"
  done
done
/usr/bin/python3 - "$rows" <<'PY'
import math, sys
rows = [l.split() for l in open(sys.argv[1])]
def slope(pts):
    xs = [math.log(x) for x, _ in pts]
    ys = [math.log(y) for _, y in pts]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
for kind in ("reduced", "dense"):
    r = [(int(s), float(p), int(m)) for k, s, p, m in rows if k == kind]
    if len(r) < 2:
        continue
    lat = slope([(s * s, p) for s, p, _ in r])
    grow = [(s * s, m - r[0][2]) for s, _, m in r[1:] if m > r[0][2]]
    mem = f", peak memory above the {r[0][0]}^2 run ~ pixels^{slope(grow):.2f}" if len(grow) >= 2 else ""
    print(f"{kind}: latency ~ pixels^{lat:.2f}{mem}")
    for s, p, m in r:
        print(f"  {s}x{s}: p50 {p:.3f} ms, peak RSS {m / 1024:.0f} MiB")
PY
