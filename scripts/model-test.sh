#!/usr/bin/env bash
# Differential tests: the independent Python models of POLICY.md in
# tests/model/ (written from the spec, never from lib/) against
# `loyalty replay` on random member histories under the reference policies.
#
#   BUILD=build bash scripts/model-test.sh
#
# Environment:
#   BUILD        the Makefile's build folder (default: build)
#   SPEC_DIR     the spec folder (default: ../shared/spec)
#   MODEL_SEEDS  histories per model (default: 400; the audits ran 8,000+)
#   PYTHON       a Python 3 (default: python3); the models need the xxhash
#                module (XXH3-64 for surprise sampling, POLICY.md §5) and
#                meta-change PyYAML (it writes policy variants): Debian's
#                python3-xxhash and python3-yaml serve /usr/bin/python3, pip
#                the others.
# Exits non-zero when a model and the program disagree on any result line.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${BUILD:-build}"
SPEC_DIR="${SPEC_DIR:-$(cd "$ROOT/../shared/spec" && pwd)}"
SEEDS="${MODEL_SEEDS:-400}"
LOYALTY="$ROOT/$BUILD/loyalty"
case "$BUILD" in /*) LOYALTY="$BUILD/loyalty" ;; esac
[ -x "$LOYALTY" ] || { echo "model-test: $LOYALTY is not built (make all)" >&2; exit 1; }

PY=""
for candidate in "${PYTHON:-python3}" /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import xxhash, yaml' 2>/dev/null; then
        PY="$candidate"
        break
    fi
done
if [ -z "$PY" ]; then
    PY="${PYTHON:-python3}"
    for module in xxhash yaml; do
        if ! "$PY" -c "import $module" 2>/dev/null; then
            package=$module
            [ "$module" = yaml ] && package=pyyaml
            echo "== model-test: pip install $package (for $PY)"
            "$PY" -m pip install -q "$package"
        fi
    done
fi

SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
export POLICIES="$SPEC_DIR/policies"
failed=0
echo "== model-points: $SEEDS histories (§4 and the summary, apparel and grocery)"
"$PY" tests/model/model-points_model.py "$LOYALTY" 0 "$SEEDS" "$SCRATCH" || failed=1
echo "== model-tiers: $SEEDS histories (§3, §5, §8), half of them cut in two through the state bytes"
LOYALTY="$LOYALTY" OUT="$SCRATCH/tiers" WORK="$SCRATCH/tiers-h" "$PY" tests/model/model-tiers_model.py "$((SEEDS / 2))" 1 || failed=1
LOYALTY="$LOYALTY" OUT="$SCRATCH/tiers-split" WORK="$SCRATCH/tiers-split-h" SPLIT=1 STRESS=1 \
    "$PY" tests/model/model-tiers_model.py "$((SEEDS / 2))" 100001 || failed=1
echo "== model-benefits: $SEEDS histories (§6 benefits, queries and uses, §7 paid plans, with the summary; apparel and grocery)"
"$PY" tests/model/model-benefits_model.py "$LOYALTY" 0 "$SEEDS" "$SCRATCH/benefits" || failed=1
echo "== model-wire: $SEEDS histories in four producer styles (§11, docs/wire.md): exotic ids, refusals, malformed lines, state bytes"
"$PY" tests/model/model-wire_metamorphic.py "$LOYALTY" 0 "$SEEDS" "$SCRATCH/wire" || failed=1
echo "== model-import: $SEEDS member objects (§11.2 fields, forms and which code wins, §8 first stage), the first events after an import, state bytes"
"$PY" tests/model/model-import_model.py "$LOYALTY" 0 "$SEEDS" "$SCRATCH/import" || failed=1
echo "== meta-change: $SEEDS histories cut in two through the state bytes, the second half under a next-season variant of the policy (§10.2)"
"$PY" tests/model/meta-change_metamorphic.py "$LOYALTY" 0 "$SEEDS" "$SCRATCH/meta-change" || failed=1
if [ "$failed" -ne 0 ]; then
    echo "model-test: FAILED (a model and the program disagree; the seeds are printed above)"
    exit 1
fi
echo "model-test: the models and the program agree"
