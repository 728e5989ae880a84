#!/usr/bin/env bash
# Measures how cmod behaves on bad input; the numbers in docs/reliability.md come from here.
#
#   scripts/reliability.sh              the table of bad-input classes: ReliabilityTest runs every case
#                                       through Main.execute, plus the memory cases in child JVMs with
#                                       -Xmx1g (-Dcmod.reliability.full=true); prints
#                                       cli/target/reliability/results.md
#   scripts/reliability.sh fuzz [SECS]  also fuzzes each Jazzer target for SECS seconds (default 60), one
#                                       at a time, and prints executions, coverage and findings per target
#
# Offline Maven (-o) once the dependencies are in ~/.m2. Fuzzing writes its growing corpus to
# MODULE/.cifuzz-corpus (moved to MODULE/target/cifuzz-corpus afterwards) and crashing inputs to
# MODULE/src/test/resources/dev/cmod/fuzz/<Class>Inputs/<method>/crash-*: those fail the regression
# tests until they are triaged (see the "Findings" section of docs/reliability.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# MVN_ARGS: extra Maven arguments, e.g. MVN_ARGS=-Dmaven.repo.local=/tmp/m2 to keep the build off ~/.m2
mvn_o() { mvn -B -o ${MVN_ARGS:-} "$@"; }

echo "building (mvn install -Dmaven.test.skip=true)..." >&2
mvn_o -q install -Dmaven.test.skip=true

echo "reliability cases..." >&2
log="$(mktemp)"
status=0
mvn_o test -pl cli -Dtest=ReliabilityTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dcmod.reliability.full=true >"$log" 2>&1 || status=$?
if [[ -f cli/target/reliability/results.md ]]; then
  cat cli/target/reliability/results.md
else
  tail -50 "$log"
fi
if [[ $status -ne 0 ]]; then
  echo "ReliabilityTest failed (exit $status): some case broke the promise; see $log" >&2
else
  rm -f "$log"
fi

if [[ "${1:-}" == "fuzz" ]]; then
  secs="${2:-60}"
  echo
  echo "| target | executions | time | coverage (start -> end) | corpus | findings |"
  echo "|---|---|---|---|---|---|"
  # module  test  instrumented packages
  while read -r module test instrument; do
    flog="$(mktemp)"
    CMOD_DEBUG=1 JAZZER_FUZZ=1 mvn_o test -pl "$module" -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false \
      -Djazzer.max_duration="${secs}s" -Djazzer.keep_going=30 -Djazzer.instrument="$instrument" \
      -DargLine=-Xmx2g >"$flog" 2>&1 || true
    done_line="$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$flog" | tail -1 || true)"
    runs="$(sed -E 's/Done ([0-9]+) runs.*/\1/' <<<"$done_line")"
    time_s="$(sed -E 's/.* in ([0-9]+) second/\1 s/' <<<"$done_line")"
    cov0="$(grep -oE 'INITED cov: [0-9]+' "$flog" | head -1 | grep -oE '[0-9]+$' || true)"
    cov1="$(grep -oE 'DONE +cov: [0-9]+' "$flog" | tail -1 | grep -oE '[0-9]+$' || true)"
    corp="$(grep -oE 'DONE .* corp: [0-9]+' "$flog" | tail -1 | grep -oE '[0-9]+$' || true)"
    findings="$(grep -c '^== Java Exception' "$flog" || true)"
    echo "| $test | ${runs:-?} | ${time_s:-?} | ${cov0:-?} -> ${cov1:-?} | ${corp:-?} | $findings |"
    if [[ -d "$module/.cifuzz-corpus" ]]; then
      mkdir -p "$module/target/cifuzz-corpus"
      cp -r "$module/.cifuzz-corpus/." "$module/target/cifuzz-corpus/"
      rm -rf "$module/.cifuzz-corpus"
    fi
    if [[ "$findings" != "0" ]]; then
      echo "  findings of $test (log: $flog):" >&2
      grep -A3 '^== Java Exception' "$flog" >&2 || true
    else
      rm -f "$flog"
    fi
  done <<'EOF'
compiler ParserFuzzTest dev.cmod.**
cli CompilePipelineFuzzTest#compileText dev.cmod.**
cli CompilePipelineFuzzTest#compileGenerated dev.cmod.**
ir TensorReadersFuzzTest#npy dev.cmod.**
ir TensorReadersFuzzTest#safetensors dev.cmod.**,com.google.gson.**
backend-onnx OnnxReaderFuzzTest dev.cmod.**,ai.onnx.**,com.google.protobuf.**
cli OnnxRunFuzzTest dev.cmod.**,ai.onnx.**
EOF
  crashes="$(find . -path '*/src/test/resources/dev/cmod/fuzz/*' -name 'crash-*' | sort)"
  if [[ -n "$crashes" ]]; then
    echo "crashing inputs written (triage them before running the regression tests):" >&2
    echo "$crashes" >&2
  fi
fi
exit "$status"
