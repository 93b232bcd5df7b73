#!/bin/sh
# The ABI gate (docs/abi.md). Checks the built shared library against the
# committed baseline in abi/:
#
#   1. it exports only loy_* functions, each versioned LOY_1;
#   2. its SONAME is libloyalty.so.1;
#   3. the exported names are exactly the LOY_API functions of
#      include/loyalty.h, and exactly abi/symbols.txt (a name missing is a
#      removal: never allowed; a name added must be recorded with --update,
#      so that nothing is exported by accident);
#   4. abidiff against abi/libloyalty.abi finds no removed or changed
#      function and no changed type (enumerator values, the allocator
#      struct, signatures); additions are a minor release's right.
#
#   scripts/abi-check.sh BUILD_DIR            check
#   scripts/abi-check.sh BUILD_DIR --update   rewrite abi/ after an intended addition
#
# BUILD_DIR is relative to the repository root (or absolute); the library
# must be built with debug info (the Makefile's default -g), which abidw
# reads the types from.
set -eu
LC_ALL=C
export LC_ALL

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
mode=${2:-check}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
cd "$root"

lib="$build/libloyalty.so.1"
[ -e "$lib" ] || { echo "abi-check: $lib not built (make BUILD=... lib)" >&2; exit 2; }
for tool in nm readelf abidw abidiff; do
    command -v "$tool" >/dev/null 2>&1 || { echo "abi-check: $tool not installed (make deps)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/abi-check.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
fail=0

# 1. What is exported. Version definitions (type A, "LOY_1") are not symbols.
nm -D --defined-only "$lib" | awk '$2 != "A" {print $3}' | sort -u > "$work/raw.txt"
sed 's/@.*//' "$work/raw.txt" | sort -u > "$work/exported.txt"
if grep -v '^loy_' "$work/exported.txt" > "$work/foreign.txt"; then
    echo "abi-check: symbols outside loy_ are exported:" >&2
    sed 's/^/  /' "$work/foreign.txt" >&2
    fail=1
fi
if grep -v '@@LOY_1$' "$work/raw.txt" > "$work/unversioned.txt"; then
    echo "abi-check: exported symbols without the LOY_1 version:" >&2
    sed 's/^/  /' "$work/unversioned.txt" >&2
    fail=1
fi
nm -D --defined-only "$lib" | awk '$2 != "A" && $2 != "T" {print "  " $3 " (type " $2 ")"}' > "$work/data.txt"
if [ -s "$work/data.txt" ]; then
    echo "abi-check: exported data symbols (only functions may be):" >&2
    cat "$work/data.txt" >&2
    fail=1
fi

# 2. SONAME.
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != "libloyalty.so.1" ]; then
    echo "abi-check: SONAME is '$soname', not libloyalty.so.1" >&2
    fail=1
fi

# 3a. The header and the library agree: every LOY_API function is exported
# and nothing else is.
tr '\n' ' ' < include/loyalty.h | sed 's/;/;\n/g' | grep 'LOY_API ' |
    sed -n 's/.*LOY_API [^(]*[[:space:]*]\(loy_[a-z0-9_]*\)[[:space:]]*(.*/\1/p' | sort -u > "$work/header.txt"
if ! cmp -s "$work/header.txt" "$work/exported.txt"; then
    echo "abi-check: include/loyalty.h (LOY_API) and the exported symbols differ:" >&2
    comm -23 "$work/header.txt" "$work/exported.txt" | sed 's/^/  declared, not exported: /' >&2
    comm -13 "$work/header.txt" "$work/exported.txt" | sed 's/^/  exported, not declared: /' >&2
    fail=1
fi

# 3c. The numbers a caller compiles in: every enumerator of the public
# enums (error codes above all: "pinned forever") and the option bits.
# abidiff cannot see them (the functions return int), so their values are
# printed by a program compiled against the header and kept in
# abi/constants.txt.
{
    echo '#include <stdio.h>'
    echo '#include "loyalty.h"'
    echo 'int main(void) {'
    { grep -o 'LOY_[A-Z0-9_]*[[:space:]]*=' include/loyalty.h | sed 's/[[:space:]]*=$//'
      sed -n 's/^#define[[:space:]]*\(LOY_RESULT_[A-Z0-9_]*\)[[:space:]].*/\1/p' include/loyalty.h
    } | sort -u | while read -r name; do
        printf '    printf("%%s %%lld\\n", "%s", (long long)(%s));\n' "$name" "$name"
    done
    echo '    return 0;'
    echo '}'
} > "$work/constants.c"
${CC:-cc} -Iinclude -o "$work/constants" "$work/constants.c" > "$work/cc.txt" 2>&1 ||
    { head -20 "$work/cc.txt" >&2; echo "abi-check: cannot compile the constants program" >&2; exit 2; }
"$work/constants" | sort > "$work/constants.txt"
[ -s "$work/constants.txt" ] || { echo "abi-check: found no constants in include/loyalty.h" >&2; exit 2; }

if ! readelf -S "$lib" | grep -q '\.debug_info'; then
    echo "abi-check: $lib has no debug info; build it with -g (the default OPT)" >&2
    exit 2
fi

if [ "$mode" = "--update" ]; then
    [ $fail -eq 0 ] || { echo "abi-check: not updating abi/ while the checks above fail" >&2; exit 1; }
    mkdir -p abi
    cp "$work/exported.txt" abi/symbols.txt
    cp "$work/constants.txt" abi/constants.txt
    abidw --no-corpus-path --headers-dir include --drop-private-types "$lib" > abi/libloyalty.abi
    echo "abi-check: abi/ updated: $(wc -l < abi/symbols.txt) symbols, $(wc -l < abi/constants.txt) constants"
    exit 0
fi
[ "$mode" = "check" ] || { echo "usage: scripts/abi-check.sh BUILD_DIR [--update]" >&2; exit 2; }
[ -f abi/symbols.txt ] && [ -f abi/libloyalty.abi ] && [ -f abi/constants.txt ] ||
    { echo "abi-check: no baseline in abi/ (scripts/abi-check.sh BUILD_DIR --update)" >&2; exit 2; }

# 3b. The committed list.
comm -13 "$work/exported.txt" abi/symbols.txt > "$work/removed.txt"
comm -23 "$work/exported.txt" abi/symbols.txt > "$work/added.txt"
if [ -s "$work/removed.txt" ]; then
    echo "abi-check: symbols removed from the ABI (never allowed in libloyalty.so.1):" >&2
    sed 's/^/  /' "$work/removed.txt" >&2
    fail=1
fi
if [ -s "$work/added.txt" ]; then
    echo "abi-check: symbols not in abi/symbols.txt; if the addition is intended, record it with" >&2
    echo "  scripts/abi-check.sh BUILD_DIR --update  (and say so in the change log):" >&2
    sed 's/^/  /' "$work/added.txt" >&2
    fail=1
fi

# 3d. Constants: none removed or changed; additions recorded.
comm -23 abi/constants.txt "$work/constants.txt" > "$work/const-gone.txt"
comm -13 abi/constants.txt "$work/constants.txt" > "$work/const-new.txt"
if [ -s "$work/const-gone.txt" ]; then
    echo "abi-check: constants removed or renumbered (values are pinned forever):" >&2
    while read -r name value; do
        now=$(awk -v n="$name" '$1 == n {print $2}' "$work/constants.txt")
        echo "  $name was $value, now ${now:-gone}" >&2
    done < "$work/const-gone.txt"
    fail=1
fi
if [ -s "$work/const-new.txt" ] && [ ! -s "$work/const-gone.txt" ]; then
    echo "abi-check: constants not in abi/constants.txt; record an intended addition with --update:" >&2
    sed 's/^/  /' "$work/const-new.txt" >&2
    fail=1
fi

# 4. Types and signatures. abidiff exit bits: 1 error, 2 usage, 4 an ABI
# change, 8 an incompatible change. Added functions are not changes
# (--no-added-syms); enumerators added at the end are harmless to
# libabigail and not reported, a changed value is.
abidw --no-corpus-path --headers-dir include --drop-private-types "$lib" > "$work/current.abi"
set +e
abidiff --no-added-syms abi/libloyalty.abi "$work/current.abi" > "$work/abidiff.txt" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
    echo "abi-check: abidiff against abi/libloyalty.abi reports a change (exit $rc):" >&2
    cat "$work/abidiff.txt" >&2
    fail=1
fi

if [ $fail -ne 0 ]; then
    echo "abi-check: FAILED" >&2
    exit 1
fi
echo "abi-check: $(wc -l < "$work/exported.txt") symbols, $(wc -l < "$work/constants.txt") constants, SONAME $soname; header and abi/ agree; abidiff clean"
