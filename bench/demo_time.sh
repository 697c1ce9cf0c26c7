#!/usr/bin/env bash
# Demo time and `analyze` peak memory, before and after a change, at the SAME build profile.
#
# Why: a number is only comparable with one taken the same way. The earlier script timed one
# binary (whatever target/release held, often a debug build copied there or a build of another
# commit) and never measured memory, so "no worse than before" could not be checked. Here both
# binaries are release builds made by cargo from the two commits (or given), the runs alternate
# before/after so a change of machine load hits both sides alike, and the demo's tables are
# compared byte for byte, so the two sides are known to compute the same numbers.
#
# Usage:
#   bench/demo_time.sh [BASE_REF]          # build BASE_REF (default: main) and the work tree,
#                                          # both `cargo build --release -p gutjoint-cli`
#   BEFORE_BIN=a AFTER_BIN=b bench/demo_time.sh   # two release binaries built already
# Environment: ROUNDS (default 3) demo runs per side; PERMUTATIONS (default 999).
#
# Prints, per side: best and median wall time of `gutjoint demo` (all three reports) and the
# peak RSS of `gutjoint analyze` on the GESPIC demo cohort (the largest of the three), the
# ratios after/before, and the load average at the start and the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rounds=${ROUNDS:-3}
permutations=${PERMUTATIONS:-999}
work=$(mktemp -d)
trap 'rm -rf "$work"; if [ -n "${base_tree:-}" ]; then git -C "$root" worktree remove --force "$base_tree" >/dev/null 2>&1 || true; fi' EXIT

release_bin() { # $1 = source tree; builds it in release and prints the binary's path
  (cd "$1" && cargo build --release --locked -p gutjoint-cli --quiet) >&2
  echo "$1/target/release/gutjoint"
}

if [ -n "${BEFORE_BIN:-}" ] && [ -n "${AFTER_BIN:-}" ]; then
  before=$BEFORE_BIN
  after=$AFTER_BIN
else
  base=${1:-main}
  base_tree="$work/base"
  git worktree add --detach "$base_tree" "$base" >/dev/null
  # Reuse the compiled dependencies of this tree's release build (only the gutjoint crates
  # are rebuilt for the base commit).
  if [ -d target/release ]; then
    mkdir -p "$base_tree/target"
    cp -a target/release "$base_tree/target/"
    rm -rf "$base_tree/target/release/incremental"
  fi
  echo "building $base ($(git rev-parse --short "$base")) and the work tree in release..." >&2
  before=$(release_bin "$base_tree")
  after=$(release_bin "$root")
fi
for b in "$before" "$after"; do
  [ -x "$b" ] || { echo "error: $b is not an executable" >&2; exit 1; }
done

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
declare -A times
for i in $(seq 1 "$rounds"); do
  # Alternate which side goes first, so neither always meets the warmer cache.
  if [ $((i % 2)) = 1 ]; then order="before after"; else order="after before"; fi
  for side in $order; do
    bin=$before
    [ "$side" = after ] && bin=$after
    rm -rf "$work/$side"
    start=$(date +%s.%N)
    "$bin" demo -o "$work/$side" --permutations "$permutations" --quiet
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc)
    times[$side]="${times[$side]:-} $t"
    echo "round $i $side: $t s"
  done
done

# Same numbers on both sides: every table of the three reports byte for byte. The report and
# results.json may differ in their schema version or wording; those files are listed.
for d in "" gespic probiotic; do
  if ! diff -r "$work/before/$d/tables" "$work/after/$d/tables" >/dev/null; then
    echo "error: the demo's tables differ between before and after (${d:-gmhi}/tables)" >&2
    diff -r "$work/before/$d/tables" "$work/after/$d/tables" | head -20 >&2
    exit 1
  fi
done
echo "tables: identical before and after (all three reports)"
changed=$(diff -rq "$work/before" "$work/after" | sed "s|$work/||g" || true)
[ -n "$changed" ] && printf 'other files that differ:\n%s\n' "$changed"

# Peak memory of `analyze` on the GESPIC cohort (the demo's inputs, as the demo runs it).
peak() { # $1 = binary, $2 = output folder; prints the maximum resident set in MB
  /usr/bin/time -f %M -o "$work/rss" "$1" analyze "$work/before/gespic/inputs/gespic_genus.tsv" \
    --metadata "$work/before/gespic/inputs/gespic_metadata.tsv" --group group \
    --host-variables BASDAI,ASDAS,CRP --covariates 'age + C(sex)' \
    --permutations "$permutations" -o "$2" --quiet
  echo "scale=1; $(cat "$work/rss") / 1024" | bc
}
rss_before=$(peak "$before" "$work/rss-before")
rss_after=$(peak "$after" "$work/rss-after")

stats() { # prints "best median" of the times given
  printf '%s\n' $1 | sort -g | awk '{v[NR]=$1} END {printf "%s %s", v[1], v[int((NR+1)/2)]}'
}
read -r best_b med_b <<<"$(stats "${times[before]}")"
read -r best_a med_a <<<"$(stats "${times[after]}")"
echo
echo "gutjoint demo, three reports, $permutations permutations, release builds, $(nproc) cores:"
echo "  before ($before): best $best_b s, median $med_b s"
echo "  after  ($after): best $best_a s, median $med_a s"
echo "  after/before: best $(echo "scale=3; $best_a / $best_b" | bc), median $(echo "scale=3; $med_a / $med_b" | bc)"
echo "gutjoint analyze (GESPIC demo cohort) peak RSS: before $rss_before MB, after $rss_after MB, after/before $(echo "scale=3; $rss_after / $rss_before" | bc)"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
