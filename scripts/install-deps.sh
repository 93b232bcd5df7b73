#!/bin/sh
# Installs what libloyalty needs to build and test, from Debian's packages.
# Idempotent: packages already present are not fetched again.
set -eu
PKGS="build-essential pkg-config libyaml-dev libxxhash-dev libcmocka-dev doxygen groff-base libsqlite3-dev sqlite3 python3 python3-venv python3-xxhash python3-yaml clang libclang-rt-14-dev llvm abigail-tools"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: all present ($PKGS)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
