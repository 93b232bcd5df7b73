#!/bin/sh
# make test-install: install into a temporary PREFIX, then build the examples
# against the installed copy through pkg-config only (no -I or -L into the
# tree), shared and static, and run them; then a DESTDIR install, and
# uninstall of both leaving nothing behind.
#   scripts/test-install.sh [BUILD_DIR]   (default build; `make all` first)
set -eu
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
make=${MAKE:-make}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$*"; }
check() {  # check DESCRIPTION ACTUAL EXPECTED
    if [ "$2" = "$3" ]; then ok; else bad "$1"; printf '  expected: %s\n  actual:   %s\n' "$3" "$2"; fi
}
has() {  # has DESCRIPTION FILE PATTERN: a line of FILE matches the fixed string
    if grep -qF -- "$3" "$2"; then ok; else bad "$1 ('$3' not in $2)"; sed 's/^/  | /' "$2"; fi
}
run() {  # run DESCRIPTION COMMAND...: the command succeeds
    desc=$1
    shift
    if "$@" > "$tmp/run.out" 2>&1; then ok; else bad "$desc (exit $?: $*)"; sed 's/^/  | /' "$tmp/run.out"; fi
}
pc() { echo $(pkg-config "$@"); }  # without pkg-config's trailing blank

# ------------------------------------------------------------ PREFIX install
$make -s BUILD="$build" PREFIX="$prefix" install > "$tmp/install.log"
for f in bin/loyalty include/loyalty.h lib/libloyalty.so.1.0.0 lib/libloyalty.so.1 lib/libloyalty.so \
         lib/libloyalty.a lib/pkgconfig/loyalty.pc share/man/man1/loyalty.1; do
    if [ -e "$prefix/$f" ]; then ok; else bad "installed $f"; fi
done
check "libloyalty.so.1 links to the versioned file" "$(readlink "$prefix/lib/libloyalty.so.1")" libloyalty.so.1.0.0
check "libloyalty.so links to the SONAME" "$(readlink "$prefix/lib/libloyalty.so")" libloyalty.so.1

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check "pkg-config finds the installed loyalty.pc" "$(pkg-config --modversion loyalty)" 1.0.0
check "loyalty.pc names the temporary prefix" "$(pkg-config --variable=prefix loyalty)" "$prefix"
check "Cflags point at the installed header" "$(pc --cflags loyalty)" "-I$prefix/include"
check "Libs for a shared link" "$(pc --libs loyalty)" "-L$prefix/lib -lloyalty"
# A static link needs libyaml after libloyalty (Requires.private / Libs.private).
case " $(pkg-config --static --libs loyalty) " in
    *" -lloyalty "*" -lyaml "*) ok ;;
    *) bad "pkg-config --static --libs loyalty lists -lyaml after -lloyalty: $(pkg-config --static --libs loyalty)" ;;
esac

check "the installed program runs" "$(LD_LIBRARY_PATH="$prefix/lib" "$prefix/bin/loyalty" version)" "loyalty 1.0.0"
run "the installed program checks a policy" "$prefix/bin/loyalty" check examples/pos-checkout/policy.yaml
if command -v groff >/dev/null; then
    groff -man -Tutf8 -ww -z "$prefix/share/man/man1/loyalty.1" > "$tmp/groff.out" 2>&1 || true
    check "the installed man page renders without warnings" "$(cat "$tmp/groff.out")" ""
fi

# The sources are copied away from the tree, so only pkg-config can find the header.
mkdir -p "$tmp/src"
cp examples/checkout.c examples/pos-checkout/pos.c "$tmp/src/"
cd "$tmp/src"
CC=${CC:-cc}
cflags="-std=c99 -Wall -Wextra -Werror"

# -------------------------------------------------------------- shared link
# shellcheck disable=SC2046,SC2086
run "checkout.c builds against the shared library" \
    $CC $cflags checkout.c $(pkg-config --cflags --libs loyalty) -o checkout-shared
LD_LIBRARY_PATH="$prefix/lib" ldd ./checkout-shared > ldd.out
has "checkout-shared loads the installed libloyalty.so.1" ldd.out "libloyalty.so.1 => $prefix/lib/libloyalty.so.1"
LD_LIBRARY_PATH="$prefix/lib" ./checkout-shared "$root/examples/data/apparel.yaml" > checkout-shared.out
# POLICY.md §11.6: the coat earns 1299 x 2 (birthday month) x 1.5 (new season) = 3897 pending points,
# and reaching silver gives its 200-point upgrade gift.
has "checkout (shared) earns the spec example's 3897 points" checkout-shared.out '"delta": 3897'
has "checkout (shared) reports the member" checkout-shared.out "tier silver, 200 points available, 3897 pending"

# shellcheck disable=SC2046,SC2086
run "pos.c builds against the shared library" \
    $CC $cflags pos.c $(pkg-config --cflags --libs loyalty sqlite3) -o pos-shared
if LD_LIBRARY_PATH="$prefix/lib" sh "$root/examples/pos-checkout/test.sh" ./pos-shared \
        "$root/examples/pos-checkout/policy.yaml" > pos-shared.out 2>&1; then ok; else
    bad "the POS test with the shared build"; sed 's/^/  | /' pos-shared.out; fi

# -------------------------------------------------------------- static link
# -Bstatic makes -lloyalty and what --static adds resolve to archives only.
# shellcheck disable=SC2046,SC2086
run "checkout.c builds against the static library" \
    $CC $cflags checkout.c $(pkg-config --cflags loyalty) \
        -Wl,-Bstatic $(pkg-config --static --libs loyalty) -Wl,-Bdynamic -o checkout-static
readelf -d checkout-static > needed.out
if grep -q 'NEEDED.*lib\(loyalty\|yaml\)' needed.out; then
    bad "checkout-static needs no libloyalty or libyaml at run time"; grep NEEDED needed.out
else ok; fi
env -u LD_LIBRARY_PATH ./checkout-static "$root/examples/data/apparel.yaml" > checkout-static.out
check "checkout (static) prints what the shared build prints" "$(cat checkout-static.out)" "$(cat checkout-shared.out)"

# shellcheck disable=SC2046,SC2086
run "pos.c builds against the static library" \
    $CC $cflags pos.c $(pkg-config --cflags loyalty sqlite3) \
        -Wl,-Bstatic $(pkg-config --static --libs loyalty) -Wl,-Bdynamic $(pkg-config --libs sqlite3) -o pos-static
if sh "$root/examples/pos-checkout/test.sh" ./pos-static "$root/examples/pos-checkout/policy.yaml" \
        > pos-static.out 2>&1; then ok; else
    bad "the POS test with the static build"; sed 's/^/  | /' pos-static.out; fi
cd "$root"

# ------------------------------------------------------------ DESTDIR install
$make -s BUILD="$build" DESTDIR="$tmp/stage" PREFIX=/usr install > "$tmp/install.log"
check "DESTDIR install: loyalty.pc names the real prefix" \
    "$(sed -n 's/^prefix=//p' "$tmp/stage/usr/lib/pkgconfig/loyalty.pc")" /usr
if [ -e "$tmp/stage/usr/share/man/man1/loyalty.1" ] && [ -e "$tmp/stage/usr/lib/libloyalty.so.1" ]; then ok; else
    bad "DESTDIR install puts the files under DESTDIR"; fi
$make -s BUILD="$build" DESTDIR="$tmp/stage" PREFIX=/usr uninstall
check "DESTDIR uninstall leaves no file" "$(find "$tmp/stage" ! -type d)" ""

# ------------------------------------------------------------------ uninstall
$make -s BUILD="$build" PREFIX="$prefix" uninstall
check "uninstall leaves no file in the prefix" "$(find "$prefix" ! -type d)" ""

# Leave the build's loyalty.pc for the default prefix again.
$make -s BUILD="$build" "$build/loyalty.pc" > /dev/null

echo "test-install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
