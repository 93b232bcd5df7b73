"""Shared helpers of the tests: where the spec is, and comparing results as
JSON values the way ../shared/spec/vectors/README.md says."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
SPEC_DIR = os.environ.get("LOYALTY_SPEC_DIR") or os.path.normpath(
    os.path.join(REPO, "..", "shared", "spec"))
VECTOR_DIR = os.path.join(SPEC_DIR, "vectors")
POLICY_DIR = os.path.join(SPEC_DIR, "policies")


def policy_path(name: str) -> str:
    return os.path.join(POLICY_DIR, name)


def manifest() -> List[Tuple[str, str]]:
    """(vector file, policy path relative to the spec) for each vector."""
    rows = []
    with open(os.path.join(VECTOR_DIR, "MANIFEST.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            vector, policy = line.split("\t")
            rows.append((vector, policy))
    return rows


def loads(text: str) -> Any:
    """JSON with exact numbers: every non-integer is a Decimal."""
    return json.loads(text, parse_float=Decimal)


def canonical(value: Any, *, top: bool = True) -> Any:
    """A value in which equal JSON values compare equal and nothing else does:
    numbers by value (1 == 1.0 == Decimal("1.00")), booleans apart from
    numbers, key order free; `trace` dropped and `error.message` blanked."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, Decimal)):
        return ("num", Decimal(value).normalize() if Decimal(value) != 0 else Decimal(0))
    if isinstance(value, float):
        raise TypeError("floats never come out of the binding")
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, list):
        return [canonical(v, top=False) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "trace":
                continue
            if k == "error" and isinstance(v, dict):
                v = {ek: ev for ek, ev in v.items() if ek != "message"}
            out[k] = canonical(v, top=False)
        return out
    raise TypeError(f"not a JSON value: {type(value).__name__}")
