#!/bin/sh
# make schema-test: the JSON Schema for editors (schema/loyalty-policy.schema.json)
# against the reference policies, the bundled examples, the guide's snippets,
# tests/schema/valid/ and the invalid-policy corpus (tests/policies/invalid/).
# What each case must do is listed in tests/schema/check.py.
#
# The validator is check-jsonschema from PyPI, pinned, installed once into a
# virtualenv under LOY_TOOLS_DIR (default ~/.cache/libloyalty); it reads YAML
# as a YAML 1.2 editor does.
#   tests/schema/run.sh [LOYALTY_PROGRAM]   (default build/loyalty)
set -eu
CHECK_JSONSCHEMA_VERSION=0.38.2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
loyalty=${1:-$root/build/loyalty}
tools=${LOY_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/libloyalty}
venv="$tools/check-jsonschema-$CHECK_JSONSCHEMA_VERSION"

if ! "$venv/bin/check-jsonschema" --version 2>/dev/null | grep -q "version $CHECK_JSONSCHEMA_VERSION\$"; then
    echo "schema-test: installing check-jsonschema $CHECK_JSONSCHEMA_VERSION into $venv"
    rm -rf "$venv"
    mkdir -p "$tools"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "check-jsonschema==$CHECK_JSONSCHEMA_VERSION"
fi

exec "$venv/bin/python" "$here/check.py" --validator "$venv/bin/check-jsonschema" \
    --loyalty "$loyalty" --root "$root"
