#!/usr/bin/env bash
# Install what the Spark tests need, build, and run them (docs/spark.md).
#
#   bash scripts/spark-test.sh
#
# Idempotent: a Java runtime is installed (Debian's default-jre-headless)
# only when `java -version` fails, and the pinned Python packages only when
# another version (or none) is installed, so a second run installs nothing
# and needs no network. Spark itself runs offline: local[2], bound to
# 127.0.0.1, no web UI, log level WARN (loyalty.spark.local_session).
#
# Environment:
#   BUILD    the Makefile's build folder (default: build)
#   PYTHON   the Python to install into and test with (default: python3)
#   MAKE     make (default: make)
# Extra arguments go to pytest (e.g. -k compare).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-build}"
PYTHON="${PYTHON:-python3}"
MAKE="${MAKE:-make}"
case "$BUILD" in
    /*) BUILD_DIR="$BUILD" ;;
    *) BUILD_DIR="$ROOT/$BUILD" ;;
esac
cd "$ROOT"

# Spark 3.5 runs on Java 8, 11 and 17 and on Python 3.8 to 3.11 (3.12 from
# 3.5.x with these pins); pandas and pyarrow pinned to versions it is
# tested with (numpy below 2 for pyarrow 17's wheels on older CPUs).
PINS=("pyspark==3.5.6" "pyarrow==17.0.0" "pandas==2.2.3" "numpy==1.26.4")

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

# ------------------------------------------------------------------- Java
if java -version >/dev/null 2>&1; then
    echo "== java: $(java -version 2>&1 | head -n 1)"
else
    echo "== java: none found; installing Debian's default-jre-headless"
    if [ "$(id -u)" -ne 0 ]; then
        echo "spark-test: no Java runtime, and not root to install one (apt-get install default-jre-headless)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jre-headless
    java -version
fi
JAVA_MAJOR="$(java -version 2>&1 | sed -n 's/.*version "\(1\.\)\{0,1\}\([0-9]*\).*/\2/p' | head -n 1)"
case "$JAVA_MAJOR" in
    8|11|17) ;;
    *) echo "spark-test: warning: Java $JAVA_MAJOR; Spark 3.5 supports 8, 11 and 17" >&2 ;;
esac

# ------------------------------------------------------- Python packages
missing=()
for pin in "${PINS[@]}"; do
    name="${pin%%==*}"
    want="${pin##*==}"
    have="$("$PYTHON" -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)"
    if [ "$have" != "$want" ]; then
        missing+=("$pin")
    fi
done
if ! "$PYTHON" -m pytest --version >/dev/null 2>&1; then
    missing+=("pytest")
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "== pip install ${missing[*]}"
    "$PYTHON" -m pip install -q "${missing[@]}"
else
    echo "== python packages: ${PINS[*]} already installed"
fi

# ------------------------------------------------------------ build, install
echo "== make all (BUILD=$BUILD)"
"$MAKE" -C "$ROOT" BUILD="$BUILD" all

# The package's build step bundles the library just built (LOYALTY_BUILD_DIR):
# reinstall it every time, so the tests never run an older copy. Its [spark]
# dependencies are the pins above, already in place.
echo "== pip install ./bindings/python[spark]"
LOYALTY_BUILD_DIR="$BUILD" "$PYTHON" -m pip install -q --force-reinstall --no-deps \
    "./bindings/python[spark]"
"$PYTHON" -c "import loyalty.spark, pyspark; print('== loyalty', loyalty.__version__, 'from', loyalty.library_path, '; pyspark', pyspark.__version__)"

# -------------------------------------------------------------------- tests
echo "== pytest bindings/python/tests/spark"
# LOYALTY_SPARK_TESTS=1: a missing piece fails the run instead of skipping.
# LOYALTY_LIBRARY would override the bundled copy under test.
env -u LOYALTY_LIBRARY LOYALTY_SPARK_TESTS=1 LOYALTY_CLI="$BUILD_DIR/loyalty" \
    SPARK_LOCAL_IP=127.0.0.1 \
    "$PYTHON" -m pytest bindings/python/tests/spark -q -p no:cacheprovider "$@"
