#!/bin/bash
# The behaviour gate used for performance work: the `loyalty` program of the
# working tree against the one of a base revision, byte for byte, on
# generated histories (scripts/gen-history.py).
#
#   scripts/equiv-check.sh [BASE_REV]        (default: HEAD)
#
# Both are built without sanitizers in a scratch directory. Each generated
# member is replayed under the three reference policies of ../shared/spec,
# with and without --trace and with --state-out; `simulate` runs over the
# whole history (--json, and --compare). Every output, error line, exit
# status and state file must be identical. Exits 0 when they are.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-HEAD}
spec=${SPEC_DIR:-$root/../shared/spec}
members=${EQUIV_MEMBERS:-150}
work=$(mktemp -d /tmp/loyalty-equiv.XXXXXX)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "equiv-check: building $base and the working tree"
git -C "$root" worktree add -q --detach "$work/base" "$base"
make -s -C "$work/base" BUILD="$work/build-base" -j2 "$work/build-base/loyalty" >/dev/null
make -s -C "$root" BUILD="$work/build-new" -j2 "$work/build-new/loyalty" >/dev/null

mkdir -p "$work/data"
for seed in 7 11; do
    python3 "$root/scripts/gen-history.py" --members "$members" --events 40 --seed $seed >"$work/data/h$seed.jsonl"
    # one file per member: a member line starts each
    awk -v dir="$work/data/h$seed" 'BEGIN { n = -1; system("mkdir -p " dir) }
        /^\{"member"/ { n++; if (f) close(f); f = sprintf("%s/m%04d.jsonl", dir, n) }
        { print > f }' "$work/data/h$seed.jsonl"
done
python3 "$root/scripts/gen-history.py" --members $((members * 20)) --events 25 --seed 3 >"$work/data/sim.jsonl"

run() { # BIN OUT
    local bin=$1 out=$2 pol d f b
    mkdir -p "$out"
    for pol in apparel grocery minimal; do
        for d in "$work"/data/h7 "$work"/data/h11; do
            for f in "$d"/*.jsonl; do
                b=$(basename "$d")-$(basename "$f" .jsonl)
                { "$bin" replay "$spec/policies/$pol.yaml" "$f" --state-out "$out/$pol-$b.state" 2>&1; echo "rc=$?"; } >"$out/$pol-$b.out" || true
                { "$bin" replay "$spec/policies/$pol.yaml" "$f" --trace 2>&1; echo "rc=$?"; } >"$out/$pol-$b.trace" || true
            done
        done
        { "$bin" simulate "$spec/policies/$pol.yaml" "$work/data/sim.jsonl" --json 2>&1; echo "rc=$?"; } >"$out/sim-$pol.json" || true
    done
    { "$bin" simulate "$spec/policies/apparel.yaml" "$work/data/sim.jsonl" --compare "$spec/policies/grocery.yaml" 2>&1; echo "rc=$?"; } >"$out/sim-compare.txt" || true
}
echo "equiv-check: replaying $((members * 2)) members x 3 policies, and simulate"
run "$work/build-base/loyalty" "$work/out-base"
run "$work/build-new/loyalty" "$work/out-new"
if diff -r "$work/out-base" "$work/out-new" >"$work/diff.txt"; then
    echo "equiv-check: EQUIVALENT ($(ls "$work/out-new" | wc -l) files identical to $base)"
else
    echo "equiv-check: DIFFERENT from $base:" >&2
    head -40 "$work/diff.txt" >&2
    exit 1
fi
