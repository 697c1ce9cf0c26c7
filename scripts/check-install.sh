#!/usr/bin/env bash
# Issue #14's "runs from anywhere it is installed" check: installs gutjoint with
# `cargo install --root`, copies the binary into an empty temporary folder, and from another
# directory, with an empty environment (no CARGO_MANIFEST_DIR, HOME in the temp folder), runs
# demo, kb, drugs, reference list, dysbiosis with a built-in reference and analyze. Fails when a
# command fails or when any output (stdout, stderr, written files) names the source tree.
#   scripts/check-install.sh            # debug profile (faster to build)
#   PROFILE=release scripts/check-install.sh
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flag=--debug
[ "${PROFILE:-debug}" = release ] && flag=
cargo install --quiet --locked $flag --path "$src/crates/gutjoint-cli" --root "$tmp/root" \
  --target-dir "${CARGO_TARGET_DIR:-$src/target}"
mkdir -p "$tmp/bin" "$tmp/run"
cp "$tmp/root/bin/gutjoint" "$tmp/bin/gutjoint"
cd "$tmp/run"
run() { # name, args...: runs the copied binary with nothing from the build environment
  local name=$1; shift
  echo "== gutjoint $*"
  env -i PATH=/usr/bin:/bin HOME="$tmp" "$tmp/bin/gutjoint" "$@" >"$tmp/run/$name.out" 2>"$tmp/run/$name.err" || {
    cat "$tmp/run/$name.err"; echo "FAILED: gutjoint $*"; exit 1; }
  head -c 300 "$tmp/run/$name.out"; echo
}
run demo demo -o demo --quiet
run kb kb taxon "Segatella copri"
run drugs drugs demo/inputs/validation_abundance.csv --drugs sulfasalazine,diclofenac -o drugs.tsv
run reflist reference list
run dysbiosis dysbiosis demo/inputs/validation_abundance.csv --reference gmhi-healthy -o dysbiosis.tsv
run analyze analyze demo/inputs/validation_abundance.csv --metadata demo/inputs/gmhi_arthritis_metadata.tsv \
  --group group --permutations 99 --output analysis --quiet
for f in demo/report.html demo/results.json demo/gespic/report.html analysis/report.html analysis/results.json drugs.tsv dysbiosis.tsv; do
  [ -s "$f" ] || { echo "FAILED: $f is missing or empty"; exit 1; }
done
# No output may name the source tree or the build machine's paths.
if grep -rl -e "$src" -e /work/ -e CARGO_MANIFEST_DIR "$tmp/run"; then
  echo "FAILED: the files above name a build path"; exit 1
fi
echo "ok: the installed binary ran demo, kb, drugs, reference list, dysbiosis and analyze from $tmp/run; no output names $src"
