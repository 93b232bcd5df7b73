#!/bin/sh
# Part of make docs: the man page renders without a warning, and every policy
# and replay in docs/guide.md does what the guide shows (tests/docs/check.py).
#   tests/docs/run.sh [LOYALTY_PROGRAM]   (default build/loyalty)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
loyalty=${1:-$root/build/loyalty}
command -v groff >/dev/null || { echo "docs: groff is not installed (make deps)"; exit 1; }
warnings=$(groff -man -Tutf8 -ww -z "$root/man/loyalty.1" 2>&1)
if [ -n "$warnings" ]; then
    echo "$warnings"
    echo "docs: man/loyalty.1 has warnings"
    exit 1
fi
echo "docs: man/loyalty.1 renders cleanly"
exec python3 "$root/tests/docs/check.py" "$loyalty" "$root/docs/guide.md"
