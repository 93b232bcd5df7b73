"""Exceptions: one hierarchy, mapped from the C codes in one place."""

from __future__ import annotations

import os

import pytest

import loyalty
from loyalty import Tick, errors
from loyalty._ffi import lib
from support import policy_path

AT = "2026-05-01T10:00:00+08:00"

BAD_KEY = """loyalty_policy: 1
tiers:
  qualify_on: spend
  windw: lifetime
  levels:
    - {id: member}
"""


def test_every_c_code_has_its_class() -> None:
    """The binding's table agrees with the library's own names."""
    for code in list(range(-1, -5, -1)) + list(range(-10, -32, -1)):
        cls = errors.exception_class(code)
        assert cls is not loyalty.LoyaltyError, code
        assert cls.code == code
        assert cls.name == lib.loy_error_name(code).decode(), code
        assert errors.code_for_name(cls.name) == code
        assert issubclass(cls, loyalty.LoyaltyError)


def test_hierarchy() -> None:
    for cls in (loyalty.DuplicateEvent, loyalty.OutOfOrder, loyalty.InvalidEvent,
                loyalty.BenefitNotOpen, loyalty.InvalidQuery, loyalty.MalformedJSON):
        assert issubclass(cls, loyalty.EventRefused)
    for cls in (loyalty.StateTruncated, loyalty.StateChecksum, loyalty.StateVersion,
                loyalty.StatePolicyMismatch):
        assert issubclass(cls, loyalty.StateError)
    assert issubclass(loyalty.PolicyFileError, loyalty.PolicyError)
    assert issubclass(loyalty.PolicyFileError, OSError)
    assert issubclass(loyalty.OutOfMemory, MemoryError)
    assert issubclass(loyalty.InvalidArgument, ValueError)
    assert loyalty.DuplicateEvent.code == -12 and loyalty.OutOfOrder.code == -13
    # A code newer than the binding is still an error that carries its code.
    exc = errors.error_for(-99, "new")
    assert isinstance(exc, loyalty.EventRefused) and exc.code == -99


def test_duplicate_and_out_of_order(apparel: loyalty.Policy) -> None:
    m = loyalty.Member.new(apparel, "M-1", "2026-01-01")
    assert m.apply(Tick("T-1", AT)).ok
    state = m.to_bytes()
    r = m.apply(Tick("T-1", "2026-05-02T10:00:00+08:00"))
    assert not r.ok and r.effects == [] and r.member_summary is None
    assert r.error == loyalty.ResultError(-12, "LOY_E_DUPLICATE", r.error.message, [])
    with pytest.raises(loyalty.DuplicateEvent) as info:
        r.raise_for_error()
    assert info.value.code == -12 and info.value.name == "LOY_E_DUPLICATE"
    assert isinstance(info.value, loyalty.EventRefused)
    assert isinstance(info.value, loyalty.LoyaltyError)
    assert m.to_bytes() == state

    r = m.apply(Tick("T-0", "2026-04-30T10:00:00+08:00"))
    with pytest.raises(loyalty.OutOfOrder):
        r.raise_for_error()
    assert r.error is not None and r.error.code == errors.E_OUT_OF_ORDER
    assert m.to_bytes() == state
    # Ties keep arrival order: the same instant is not out of order.
    assert m.apply(Tick("T-2", AT)).ok


def test_policy_error_positions() -> None:
    with pytest.raises(loyalty.PolicyError) as info:
        loyalty.Policy.from_string(BAD_KEY, name="bad.yaml")
    exc = info.value
    assert exc.code == -4 and exc.name == "LOY_E_POLICY"
    # An unknown key is reported at the key: line 4, column 3.
    assert [(d.file, d.line, d.column) for d in exc.errors] == [("bad.yaml", 4, 3)]
    file, line, column, message = exc.errors[0]
    assert message and str(exc.errors[0]).startswith("bad.yaml:4:3: ")

    with pytest.raises(loyalty.PolicyError) as info:
        loyalty.Policy.from_string(BAD_KEY.replace("loyalty_policy: 1", "loyalty_policy: 2"))
    where = {(d.file, d.line, d.column) for d in info.value.errors}
    assert ("<memory>", 1, 17) in where and ("<memory>", 4, 3) in where


def test_policy_file_errors(tmp_path) -> None:
    with pytest.raises(loyalty.PolicyFileError) as info:
        loyalty.Policy.from_file(tmp_path / "no-such.yaml")
    assert isinstance(info.value, OSError) and info.value.code == errors.E_IO
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_KEY)
    with pytest.raises(loyalty.PolicyError) as info:
        loyalty.Policy.from_file(bad)
    assert [(d.line, d.column) for d in info.value.errors] == [(4, 3)]
    assert info.value.errors[0].file == str(bad)


def test_state_errors(apparel: loyalty.Policy, minimal: loyalty.Policy) -> None:
    m = loyalty.Member.new(apparel, "M-1", "2026-01-01")
    data = m.to_bytes()
    with pytest.raises(loyalty.StateTruncated):
        loyalty.Member.from_bytes(apparel, b"")
    with pytest.raises(loyalty.StateTruncated):
        loyalty.Member.from_bytes(apparel, data[: len(data) // 2])
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 2] ^= 0x01
    with pytest.raises(loyalty.StateError) as info:
        loyalty.Member.from_bytes(apparel, bytes(corrupt))
    assert info.value.code in (errors.E_STATE_CHECKSUM, errors.E_STATE_TRUNCATED,
                               errors.E_STATE_VERSION)
    # A silver member cannot continue under a policy without silver (§10.2)...
    silver = loyalty.Member.from_json(apparel, {"id": "M-2", "joined": "2026-01-01",
                                                "tier": "silver"})
    with pytest.raises(loyalty.StatePolicyMismatch) as info:
        loyalty.Member.from_bytes(minimal, silver.to_bytes())
    assert "silver" in info.value.message
    # ... while an entry-tier member can.
    moved = loyalty.Member.from_bytes(minimal, data)
    assert moved.tier == "member" and moved.stage is None


def test_member_object_refused(apparel: loyalty.Policy) -> None:
    with pytest.raises(loyalty.UnknownTier) as info:
        loyalty.Member.from_json(apparel, {"id": "M-1", "joined": "2026-01-01", "tier": "diamond"})
    assert info.value.result.to_dict()["event"] is None
    assert info.value.result.error.name == "LOY_E_UNKNOWN_TIER"
    with pytest.raises(loyalty.InvalidMember):
        loyalty.Member.from_json(apparel, '{"member": {"id": "M-1", "joined": "2026-01-01", '
                                          '"favourite_colour": "red"}}')
    with pytest.raises(loyalty.InvalidMember):
        loyalty.Member.from_json(apparel, {"id": "", "joined": "2026-01-01"})
    with pytest.raises(loyalty.EventRefused):
        loyalty.Member.from_json(apparel, b'{"member": ')
    with pytest.raises(loyalty.LoyaltyError):
        loyalty.Member.new(apparel, "M-1", "2026-02-30")


def test_wire_refusals(apparel: loyalty.Policy) -> None:
    m = loyalty.Member.new(apparel, "M-1", "2026-01-01")
    r = m.apply_json('{"type": "tick", "id": "T-1", "at": ')
    assert r.error is not None and r.error.code == errors.E_JSON
    with pytest.raises(loyalty.MalformedJSON):
        r.raise_for_error()
    r = m.apply_json('["not", "an", "object"]')
    assert r.error is not None and r.error.name == "LOY_E_INVALID_EVENT" and r.event is None
    r = m.apply_json({"query": "members", "at": AT})
    assert r.error is not None and r.error.name == "LOY_E_INVALID_QUERY"
    assert r.to_dict()["query"] == "members"
    with pytest.raises(loyalty.InvalidQuery):
        m.benefits("yesterday")


def test_closed_handles(apparel: loyalty.Policy) -> None:
    with loyalty.Member.new(apparel, "M-1", "2026-01-01") as m:
        assert m.id == "M-1"
    assert m.closed
    with pytest.raises(loyalty.ClosedError):
        m.apply(Tick("T-1", AT))
    with pytest.raises(loyalty.ClosedError):
        m.to_bytes()
    m.close()                                    # twice is fine

    with loyalty.Policy.from_file(policy_path("minimal.yaml")) as p:
        assert p.tiers[0].id == "member"
    with pytest.raises(loyalty.ClosedError):
        p.tiers
    with pytest.raises(loyalty.ClosedError):
        loyalty.Member.new(p, "M-1", "2026-01-01")


def test_member_of_another_policy(apparel: loyalty.Policy, grocery: loyalty.Policy) -> None:
    m = loyalty.Member.new(grocery, "M-1", "2026-01-01")
    with pytest.raises(loyalty.InvalidArgument):
        apparel.apply(m, Tick("T-1", AT))


def test_library_override_must_load() -> None:
    import subprocess
    import sys

    env = dict(os.environ, LOYALTY_LIBRARY="/nonexistent/libloyalty.so.1")
    proc = subprocess.run([sys.executable, "-c", "import loyalty"], env=env,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "LOYALTY_LIBRARY" in proc.stderr
    env["LOYALTY_LIBRARY"] = loyalty.library_path
    proc = subprocess.run([sys.executable, "-c", "import loyalty; print(loyalty.library_path)"],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == loyalty.library_path
