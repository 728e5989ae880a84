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
