"""The nine conformance vectors, through Member.apply_json: the same inputs
and expected outputs the C tests use (../shared/spec/vectors)."""

from __future__ import annotations

import os
from typing import Any, Dict, List

import pytest

import loyalty
from support import SPEC_DIR, VECTOR_DIR, canonical, loads, manifest

_policies: Dict[str, loyalty.Policy] = {}


def _policy(rel: str) -> loyalty.Policy:
    if rel not in _policies:
        _policies[rel] = loyalty.Policy.from_file(os.path.join(SPEC_DIR, rel))
    return _policies[rel]


def _replay(policy: loyalty.Policy, lines: List[str]) -> List[Any]:
    """What `loyalty replay` prints: nothing for an accepted member line, then
    one result per event or query line; blank lines skipped."""
    lines = [l for l in lines if l.strip()]
    out: List[Any] = []
    try:
        member = loyalty.Member.from_json(policy, lines[0])
    except loyalty.EventRefused as exc:
        assert exc.result is not None
        return [exc.result.to_dict()]
    with member:
        for line in lines[1:]:
            out.append(member.apply_json(line).to_dict())
    return out


@pytest.mark.parametrize("vector,policy", manifest(), ids=[v for v, _ in manifest()])
def test_vector(vector: str, policy: str) -> None:
    with open(os.path.join(VECTOR_DIR, vector), encoding="utf-8") as f:
        lines = f.read().splitlines()
    expected_file = vector.replace(".jsonl", ".expected.jsonl")
    with open(os.path.join(VECTOR_DIR, expected_file), encoding="utf-8") as f:
        expected = [loads(l) for l in f.read().splitlines() if l.strip()]
    got = _replay(_policy(policy), lines)
    assert len(got) == len(expected), f"{vector}: {len(got)} results, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        assert canonical(g) == canonical(e), f"{vector} result {i + 1}:\n got {g}\nwant {e}"


def test_manifest_names_nine_vectors() -> None:
    assert len(manifest()) == 9


@pytest.mark.parametrize("vector,policy", manifest(), ids=[v for v, _ in manifest()])
def test_vector_through_state_bytes(vector: str, policy: str) -> None:
    """The same lines through the one-call form (state bytes in and out) give
    the same answers, and a refused event hands back the input state."""
    with open(os.path.join(VECTOR_DIR, vector), encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    with open(os.path.join(VECTOR_DIR, vector.replace(".jsonl", ".expected.jsonl")),
              encoding="utf-8") as f:
        expected = [loads(l) for l in f.read().splitlines() if l.strip()]
    p = _policy(policy)
    with loyalty.Member.from_json(p, lines[0]) as member:
        state = member.to_bytes()
    for i, line in enumerate(lines[1:]):
        result, new_state = p.apply_json(state, line)
        assert canonical(result.to_dict()) == canonical(expected[i]), f"{vector} result {i + 1}"
        if not result.ok or result.query is not None:
            assert new_state == state
        state = new_state
