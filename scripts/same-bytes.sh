#!/usr/bin/env bash
# Compares the artifacts of the working tree's compiler with those of COMMIT's compiler for every
# .cmod file in the working tree (samples, stdlib, test programs, fuzz corpora), at -O0 and -O2.
# An artifact is compared by its bytes; a program that does not compile, by its exit code and the
# bytes of its diagnostics. Exit 0 when every line is equal.
#
#   bash scripts/same-bytes.sh COMMIT
set -euo pipefail
cd "$(dirname "$0")/.."
commit="${1:?usage: scripts/same-bytes.sh COMMIT}"
tmp="$(mktemp -d)"
trap 'git worktree remove --force "$tmp/old" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add -q --detach "$tmp/old" "$commit"
echo "building $commit ..." >&2
(cd "$tmp/old" && mvn -q -B -o package -Dmaven.test.skip=true -pl cli -am)
echo "building the working tree ..." >&2
mvn -q -B -o package -Dmaven.test.skip=true -pl cli -am
find . -name '*.cmod' -not -path '*/target/*' -not -path './.git/*' | sed 's|^\./||' | LC_ALL=C sort >"$tmp/list"
echo "compiling $(wc -l <"$tmp/list") files at -O0 and -O2 with each compiler ..." >&2
java -Xmx4g -cp "$tmp/old/cli/target/cmod-cli-0.1.0-SNAPSHOT.jar:$tmp/old/cli/target/lib/*" \
  scripts/SameBytes.java "$tmp/list" "$tmp/o" >"$tmp/old.txt"
java -Xmx4g -cp "cli/target/cmod-cli-0.1.0-SNAPSHOT.jar:cli/target/lib/*" \
  scripts/SameBytes.java "$tmp/list" "$tmp/n" >"$tmp/new.txt"
total=$(wc -l <"$tmp/new.txt")
onnx=$(grep -c ' onnx=' "$tmp/new.txt" || true)
if diff "$tmp/old.txt" "$tmp/new.txt" >"$tmp/diff"; then
  echo "same bytes: $total compilations ($onnx artifacts, $((total - onnx)) diagnostics) equal to $commit"
else
  echo "DIFFERENT from $commit:"
  cat "$tmp/diff"
  exit 1
fi
