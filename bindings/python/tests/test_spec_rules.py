"""The conformance audit of POLICY.md (tests/spec/: one replay per rule,
results worked out by hand) through the binding, as tests/test_spec_rules.c
replays it through the C API.

Every case runs twice, once per public entry point a caller stores state
with: a Member handle (Member.from_json, member.apply_json, to_bytes,
Member.from_bytes) and the one-call form (policy.apply_json on state bytes).
So a difference from the C harness is a difference in the binding's
plumbing: result conversion, error mapping, state bytes or policy loading.

What the C harness does, this does too:
- each answer is compared with NAME.expected.jsonl as a JSON value (key
  order free, numbers by exact value, a root "trace" and the root
  error.message ignored, the first of duplicate keys read);
- a refused event or a query must leave the state bytes unchanged;
- a line {"policy": "NAME.yaml"} continues under another policy through the
  state bytes, answered {"policy": NAME, "loaded": true} or the load's
  {"event": null, "error": {"code": ...}};
- a `known-bug` case must still differ (it xfails); once it matches, it
  fails so that the mark is dropped. LOY_SPEC_STRICT=1 runs it as any case.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, List, Optional, Tuple

import pytest

import loyalty
from support import REPO, SPEC_DIR

SPEC_CASES = os.path.join(REPO, "tests", "spec")
STRICT = os.environ.get("LOY_SPEC_STRICT") == "1"


@dataclass(frozen=True)
class Case:
    name: str
    policy: str          # as MANIFEST.tsv writes it
    known_bug: bool


def policy_file(name: str) -> str:
    """A policy of tests/spec/policies/, or of the shared spec for "spec:NAME"."""
    if name.startswith("spec:"):
        return os.path.join(SPEC_DIR, "policies", name[5:])
    return os.path.join(SPEC_CASES, "policies", name)


def split_lines(data: bytes) -> List[bytes]:
    """Lines as the C harness splits them: on LF, blank lines (spaces, tabs,
    CR only) skipped, everything else kept byte for byte."""
    return [l for l in data.split(b"\n") if l.strip(b" \t\r")]


def cases() -> List[Case]:
    with open(os.path.join(SPEC_CASES, "MANIFEST.tsv"), "rb") as f:
        lines = split_lines(f.read())
    out = []
    for i, raw in enumerate(lines):
        line = raw.decode("utf-8")
        if line.startswith("#"):
            continue
        if "\t" not in line:
            raise ValueError(f"MANIFEST.tsv line {i + 1}: expected NAME<TAB>POLICY")
        name, rest = line.split("\t", 1)
        policy, _, mark = rest.partition("\t")
        out.append(Case(name, policy.rstrip("\r "), mark.startswith("known-bug")))
    return out


CASES = cases()


# ------------------------------------------------------------- comparison

def _first_wins(pairs: List[Tuple[str, Any]]) -> dict:
    # The wire reads the first of duplicate keys; so does the C comparison.
    out: dict = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def load_json(text: bytes) -> Any:
    """A JSON value with exact numbers (integers as int, the rest Decimal)."""
    return json.loads(text, parse_float=Decimal, object_pairs_hook=_first_wins)


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, Decimal)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    # A float would mean the binding rounded a decimal somewhere.
    return f"not JSON data ({type(v).__name__})"


def _ignored(path: str, key: str) -> bool:
    return (path == "$" and key == "trace") or (path == "$.error" and key == "message")


def difference(expected: Any, got: Any, path: str = "$") -> Optional[str]:
    """Why two values differ as the C harness sees it, or None when equal."""
    ek, gk = _kind(expected), _kind(got)
    if ek != gk or ek.startswith("not JSON"):
        return f"{path}: different types: expected {expected!r}, got {got!r}"
    if ek == "array":
        if len(expected) != len(got):
            return f"{path}: different lengths: expected {len(expected)}, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            why = difference(e, g, f"{path}[{i}]")
            if why:
                return why
        return None
    if ek == "object":
        for k, e in expected.items():
            if _ignored(path, k):
                continue
            if k not in got:
                return f"{path}.{k}: missing key: expected {e!r}"
            why = difference(e, got[k], f"{path}.{k}")
            if why:
                return why
        for k, g in got.items():
            if not _ignored(path, k) and k not in expected:
                return f"{path}.{k}: unexpected key: got {g!r}"
        return None
    # int and Decimal compare exactly, whatever the Decimal context.
    if expected != got:
        return f"{path}: expected {expected!r}, got {got!r}"
    return None


# ------------------------------------------------------------------ replay

def _policy_switch(line: bytes) -> Optional[str]:
    # The same literal prefix the C harness looks for.
    prefix = b'{"policy": "'
    if not line.startswith(prefix):
        return None
    end = line.find(b'"', len(prefix))
    return line[len(prefix):end].decode("utf-8") if end >= 0 else None


def _is_query(line: bytes) -> bool:
    return b'"query"' in line


def _switch_answer(name: str, error: Optional[loyalty.LoyaltyError]) -> dict:
    if error is not None:
        return {"event": None, "error": {"code": error.name}}
    return {"policy": name, "loaded": True}


def replay_member(case: Case, lines: List[bytes]) -> Tuple[List[Any], List[str]]:
    """Through a Member handle: the answers, and the lines whose refusal or
    query changed the state bytes."""
    policy = loyalty.Policy.from_file(policy_file(case.policy))
    try:
        member = loyalty.Member.from_json(policy, lines[0])
    except loyalty.EventRefused as exc:
        # A refused member object: its error object is the only line.
        assert exc.result is not None, f"{exc!r} carries no result"
        return [exc.result.to_dict()], []
    got: List[Any] = []
    changed: List[str] = []
    try:
        for n, line in enumerate(lines[1:], start=2):
            name = _policy_switch(line)
            if name is not None:
                data = member.to_bytes()
                other = loyalty.Policy.from_file(policy_file(name))
                try:
                    moved = loyalty.Member.from_bytes(other, data)
                except loyalty.LoyaltyError as exc:
                    got.append(_switch_answer(name, exc))
                    continue
                member.close()
                member, policy = moved, other
                got.append(_switch_answer(name, None))
                continue
            before = member.to_bytes()
            result = member.apply_json(line)
            got.append(result.to_dict())
            if not result.ok or _is_query(line):
                if member.to_bytes() != before:
                    changed.append(f"line {n}: the state changed under a "
                                   f"{'refused event' if not result.ok else 'query'}")
    finally:
        member.close()
    return got, changed


def replay_state(case: Case, lines: List[bytes]) -> Tuple[List[Any], List[str]]:
    """Through the one-call form: state bytes in, result and state bytes out."""
    policy = loyalty.Policy.from_file(policy_file(case.policy))
    try:
        with loyalty.Member.from_json(policy, lines[0]) as member:
            state = member.to_bytes()
    except loyalty.EventRefused as exc:
        assert exc.result is not None, f"{exc!r} carries no result"
        return [exc.result.to_dict()], []
    got: List[Any] = []
    changed: List[str] = []
    for n, line in enumerate(lines[1:], start=2):
        name = _policy_switch(line)
        if name is not None:
            other = loyalty.Policy.from_file(policy_file(name))
            try:
                with loyalty.Member.from_bytes(other, state) as moved:
                    state = moved.to_bytes()
            except loyalty.LoyaltyError as exc:
                got.append(_switch_answer(name, exc))
                continue
            policy = other
            got.append(_switch_answer(name, None))
            continue
        result, after = policy.apply_json(state, line)
        got.append(result.to_dict())
        if (not result.ok or _is_query(line)) and after != state:
            changed.append(f"line {n}: the state changed under a "
                           f"{'refused event' if not result.ok else 'query'}")
        state = after
    return got, changed


def compare(expected: List[bytes], got: List[Any]) -> List[str]:
    out = []
    for i in range(max(len(expected), len(got))):
        if i >= len(got):
            out.append(f"line {i + 1}: missing from the output\n  expected: {expected[i].decode()}")
        elif i >= len(expected):
            out.append(f"line {i + 1}: an extra line in the output\n  got:      {got[i]!r}")
        else:
            why = difference(load_json(expected[i]), got[i])
            if why:
                out.append(f"line {i + 1} differs: {why}\n  expected: {expected[i].decode()}\n"
                           f"  got:      {got[i]!r}")
    return out


@pytest.mark.parametrize("path", ["member", "state"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_spec_case(case: Case, path: str) -> None:
    with open(os.path.join(SPEC_CASES, case.name + ".jsonl"), "rb") as f:
        lines = split_lines(f.read())
    with open(os.path.join(SPEC_CASES, case.name + ".expected.jsonl"), "rb") as f:
        expected = split_lines(f.read())
    assert lines, f"{case.name}.jsonl has no member line"
    replay = replay_member if path == "member" else replay_state
    got, changed = replay(case, lines)
    mismatches = compare(expected, got)
    report = "\n".join(mismatches + changed)
    if case.known_bug and not STRICT:
        if not mismatches and not changed:
            pytest.fail(f"{case.name}: marked known-bug in MANIFEST.tsv but now passes: "
                        f"drop the mark")
        print(report)
        pytest.xfail(f"known bug still present ({len(mismatches)} line(s) differ)")
    assert not report, (f"{case.name}: {len(mismatches)} line(s) differ, "
                        f"{len(changed)} refusal(s) or queries changed the state\n{report}")


def test_manifest_lists_cases() -> None:
    assert CASES, "no cases in tests/spec/MANIFEST.tsv"


@pytest.mark.parametrize("expected,got,equal", [
    ('{"a": 1}', {"a": 1}, True),
    ('{"a": 1.0}', {"a": 1}, True),
    ('{"a": 0.950}', {"a": Decimal("0.95")}, True),
    ('{"a": 9000000000000000000000000000001}', {"a": 9000000000000000000000000000000}, False),
    ('{"a": true}', {"a": 1}, False),
    ('{"a": 1}', {"a": True}, False),
    ('{"a": "1"}', {"a": 1}, False),
    ('{"a": 1, "b": null}', {"a": 1}, False),
    ('{"a": 1}', {"a": 1, "b": None}, False),
    ("[2, 1]", [1, 2], False),
    ('{"a": 1, "a": 2}', {"a": 1}, True),
    ('{"a": 1}', {"a": 1, "trace": [1]}, True),
    ('{"x": {"a": 1}}', {"x": {"a": 1, "trace": [1]}}, False),
    ('{"error": {"code": "X", "message": "m"}}', {"error": {"code": "X"}}, True),
    ('{"error": {"code": "X"}}', {"error": {"code": "Y"}}, False),
    ('{"x": {"error": {"message": "m"}}}', {"x": {"error": {}}}, False),
    ('{"a": 1}', {"a": 1.0}, False),
])
def test_difference(expected: str, got: Any, equal: bool) -> None:
    """The comparison the spec cases rely on can fail, and ignores only what
    the C harness ignores."""
    assert (difference(load_json(expected.encode()), got) is None) is equal
