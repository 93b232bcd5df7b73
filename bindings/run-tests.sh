#!/usr/bin/env bash
# Build the library and run the bindings' tests: Python (pytest) and Go
# (go test -race), and the Go example service's test.
#
#   bash bindings/run-tests.sh
#
# Environment:
#   BUILD    the Makefile's build folder (default: build, which is also where
#            the Go package looks by default)
#   PYTHON   the Python to install into and test with (default: python3)
#   MAKE     make (default: make)
# Exits non-zero when any suite fails; runs every suite either way.
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-build}"
PYTHON="${PYTHON:-python3}"
MAKE="${MAKE:-make}"
case "$BUILD" in
    /*) BUILD_DIR="$BUILD" ;;
    *) BUILD_DIR="$ROOT/$BUILD" ;;
esac
cd "$ROOT"

failed=()

echo "== make lib (BUILD=$BUILD)"
if ! "$MAKE" -C "$ROOT" BUILD="$BUILD" lib; then
    echo "run-tests: the library does not build" >&2
    exit 1
fi

# ------------------------------------------------------------------ Python
echo "== python: pip install ./bindings/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
# The package's build step runs `make lib` itself and bundles the library.
if LOYALTY_BUILD_DIR="$BUILD" "$PYTHON" -m pip install --force-reinstall --no-deps \
        ./bindings/python; then
    if ! "$PYTHON" -m pytest --version >/dev/null 2>&1; then
        echo "== python: installing pytest"
        "$PYTHON" -m pip install pytest
    fi
    # The Spark suite has its own runner (scripts/spark-test.sh, make spark-test).
    echo "== python: pytest bindings/python/tests (without tests/spark)"
    # LOYALTY_LIBRARY would override the bundled copy that is under test.
    if ! env -u LOYALTY_LIBRARY "$PYTHON" -m pytest bindings/python/tests -q \
            --ignore=bindings/python/tests/spark; then
        failed+=("python")
    fi
else
    echo "run-tests: pip install ./bindings/python failed" >&2
    failed+=("python install")
fi

# ---------------------------------------------------------------------- Go
if command -v go >/dev/null 2>&1; then
    # -race needs cgo, and cgo a C compiler.
    export CGO_ENABLED=1
    if [ -z "${CC:-}" ]; then
        if command -v gcc >/dev/null 2>&1; then export CC=gcc; else export CC=cc; fi
    fi
    # Everything is local (cgo and the standard library; the service's
    # go.mod replaces the binding with ../../bindings/go): never fetch.
    export GOFLAGS="${GOFLAGS:-} -mod=readonly" GOPROXY=off GOTOOLCHAIN=local
    # The cgo directives point at $ROOT/build; a different BUILD comes first.
    export CGO_LDFLAGS="-L$BUILD_DIR -Wl,-rpath,$BUILD_DIR ${CGO_LDFLAGS:-}"
    echo "== go: bindings/go: go test -race ./..."
    if ! (cd bindings/go && go test -race -count=1 ./...); then
        failed+=("go")
    fi
    echo "== go: examples/go-service: go test -race ./..."
    if ! (cd examples/go-service && go test -race -count=1 ./...); then
        failed+=("go-service")
    fi
else
    echo "run-tests: go is not installed" >&2
    failed+=("go (not installed)")
fi

if [ ${#failed[@]} -ne 0 ]; then
    echo "run-tests: FAILED: ${failed[*]}"
    exit 1
fi
echo "run-tests: all binding suites passed"
