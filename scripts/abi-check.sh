#!/bin/sh
# The ABI gate: the exported symbols equal the committed list, and abidiff
# finds no change against the committed baseline (additions are allowed:
# a minor release may only add).
#   scripts/abi-check.sh BUILD_DIR          check
#   scripts/abi-check.sh BUILD_DIR --update  rewrite abi/ after an intended addition
set -eu
build=${1:-build}
lib="$build/libloyalty.so.1"
[ -e "$lib" ] || { echo "abi-check: $lib not built" >&2; exit 2; }

exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
bad=$(printf '%s\n' "$exported" | grep -v '^loy_' || true)
if [ -n "$bad" ]; then
    echo "abi-check: symbols outside loy_ exported:" >&2
    printf '%s\n' "$bad" >&2
    exit 1
fi
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libloyalty.so.1" ] || { echo "abi-check: SONAME is '$soname'" >&2; exit 1; }

if [ "${2:-}" = "--update" ]; then
    printf '%s\n' "$exported" > abi/symbols.txt
    abidw --no-corpus-path --headers-dir include "$lib" > abi/libloyalty.abi
    echo "abi-check: abi/ updated"
    exit 0
fi

missing=$(printf '%s\n' "$exported" | comm -13 - abi/symbols.txt)
added=$(printf '%s\n' "$exported" | comm -23 - abi/symbols.txt)
if [ -n "$missing" ]; then
    echo "abi-check: symbols removed from the ABI:" >&2
    printf '%s\n' "$missing" >&2
    exit 1
fi
[ -z "$added" ] || { echo "abi-check: new symbols (record them with --update):"; printf '%s\n' "$added"; }

if command -v abidiff >/dev/null 2>&1; then
    abidw --no-corpus-path --headers-dir include "$lib" > "$build/libloyalty.abi"
    set +e
    abidiff --no-added-syms abi/libloyalty.abi "$build/libloyalty.abi"
    rc=$?
    set -e
    # abidiff exit bits: 4 = ABI change, 8 = incompatible change; additions alone are fine.
    if [ $((rc & 8)) -ne 0 ] || [ $((rc & 4)) -ne 0 ] || [ $((rc & 1)) -ne 0 ]; then
        echo "abi-check: abidiff reports an ABI change (exit $rc)" >&2
        exit 1
    fi
    echo "abi-check: $(printf '%s\n' "$exported" | wc -l) symbols, abidiff clean"
else
    echo "abi-check: abidiff not installed; symbol list checked only" >&2
    exit 1
fi
