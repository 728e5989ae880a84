#!/usr/bin/env bash
# Makes samples/real/speech16k.wav, the clip the Silero VAD sample streams: synthetic speech
# (espeak-ng), about one second of digital silence, more speech; 16 kHz mono 16-bit PCM.
# We generated it ourselves (no recording of a person, no third-party audio), so it carries no
# licence beyond this project's. The committed file was made with espeak-ng 1.51 and sox 14.4.2
# (Debian 12); other versions give slightly different samples, which the test does not mind: its
# thresholds come from the original model's output on whatever clip is there.
# Needs: apt-get install -y espeak-ng sox
set -euo pipefail
out="${1:-$(cd "$(dirname "$0")/.." && pwd)/samples/real/speech16k.wav}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
espeak-ng -v en -s 150 -w "$tmp/a.wav" "Turn the lights on in the kitchen."
espeak-ng -v en -s 150 -w "$tmp/b.wav" "Then play some music."
sox -D "$tmp/a.wav" -r 16000 -c 1 -b 16 "$tmp/a16.wav"
sox -D "$tmp/b.wav" -r 16000 -c 1 -b 16 "$tmp/b16.wav"
sox -D -n -r 16000 -c 1 -b 16 "$tmp/silence.wav" trim 0 1.0
sox -D "$tmp/a16.wav" "$tmp/silence.wav" "$tmp/b16.wav" "$out"
echo "wrote $out"

# The inputs for running the sample once from the command line (samples/real/silero_vad.cmod):
# the clip's sixth 512-sample chunk (speech), a zero state and the sample rate. Needs NumPy.
inputs="$(dirname "$out")/inputs"
mkdir -p "$inputs"
/usr/bin/python3 - "$out" "$inputs" <<'PY'
import sys, wave
import numpy as np
with wave.open(sys.argv[1]) as w:
    pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
chunk = (pcm[5 * 512 : 6 * 512].astype(np.float32) / 32768.0).reshape(1, 512)
np.save(f"{sys.argv[2]}/vad_chunk.npy", chunk)
np.save(f"{sys.argv[2]}/vad_state.npy", np.zeros((2, 1, 128), np.float32))
np.save(f"{sys.argv[2]}/sr.npy", np.array(16000, dtype=np.int64))
PY
echo "wrote $inputs/vad_chunk.npy, vad_state.npy, sr.npy"
