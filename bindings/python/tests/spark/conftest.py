"""Fixtures of the Spark tests (loyalty.spark, docs/spark.md).

They need pyspark, pyarrow and a Java runtime. LOYALTY_SPARK_TESTS says
what to do without them: "auto" (the default) skips, "1" fails (what
scripts/spark-test.sh sets, so CI never passes by skipping), "0" skips even
when they are there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import List

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
MODE = os.environ.get("LOYALTY_SPARK_TESTS", "auto")


def _missing() -> List[str]:
    missing = []
    for module in ("pyspark", "pyarrow", "pandas"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        missing.append("java")
    return missing


if MODE == "0":
    collect_ignore_glob = ["test_*.py"]
else:
    _MISSING = _missing()
    if _MISSING and MODE == "1":
        raise RuntimeError("LOYALTY_SPARK_TESTS=1 but these are missing: " + ", ".join(_MISSING)
                           + " (scripts/spark-test.sh installs them)")
    if _MISSING:
        collect_ignore_glob = ["test_*.py"]
        print("loyalty Spark tests skipped, missing: " + ", ".join(_MISSING), file=sys.stderr)


def pytest_configure(config) -> None:
    # pyspark 3.5 checks the pandas and pyarrow versions with distutils.
    config.addinivalue_line("filterwarnings", "ignore:distutils Version classes:DeprecationWarning")


def cli_path() -> str:
    explicit = os.environ.get("LOYALTY_CLI")
    if explicit:
        return explicit
    build = os.environ.get("LOYALTY_BUILD_DIR", "build")
    return os.path.join(build if os.path.isabs(build) else os.path.join(REPO, build), "loyalty")


@pytest.fixture(scope="session")
def cli() -> str:
    """The `loyalty` program the Spark job must agree with."""
    path = cli_path()
    if not os.access(path, os.X_OK):
        if MODE == "1":
            pytest.fail(f"no loyalty program at {path}: run `make all` (or set LOYALTY_CLI)")
        pytest.skip(f"no loyalty program at {path} (make all, or set LOYALTY_CLI)")
    return path


@pytest.fixture(scope="session")
def spark():
    from loyalty import spark as lspark
    session = lspark.local_session(2, app_name="loyalty-tests", partitions=8)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def history_path(tmp_path_factory) -> str:
    """10,000 generated members (scripts/gen-history.py), about 100,000 lines."""
    path = tmp_path_factory.mktemp("history") / "history.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        subprocess.run([sys.executable, os.path.join(REPO, "scripts", "gen-history.py"),
                        "--members", "10000", "--events", "10", "--seed", "11"],
                       stdout=out, check=True)
    return str(path)
