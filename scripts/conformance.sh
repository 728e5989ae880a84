#!/usr/bin/env bash
# Runs the conformance suite (cli's NodeConformanceTest: every ONNX backend node test of Debian's
# libonnx-testdata through `cmod wrap`, compile at -O0 and -O2, run, compare; and on ONNX Runtime
# alone) and writes its report into docs/conformance.md below the fixed introduction.
set -euo pipefail
cd "$(dirname "$0")/.."
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
mvn -q -B -o install -Dmaven.test.skip=true -Dspotless.check.skip=true
mvn -q -B -o -pl cli test -Dtest=NodeConformanceTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dcmod.conformance.report="$report" >/dev/null
intro="$(sed '/^<!-- measured below -->$/q' docs/conformance.md)"
{
  printf '%s\n\n' "$intro"
  printf '_Measured %s with ONNX Runtime %s (Java, CPU), `bash scripts/conformance.sh`._\n\n' \
    "$(date -u +%Y-%m-%d)" "$(sed -n 's:.*<onnxruntime.version>\(.*\)</onnxruntime.version>.*:\1:p' pom.xml)"
  cat "$report"
} >docs/conformance.md.new
mv docs/conformance.md.new docs/conformance.md
echo "wrote docs/conformance.md"
