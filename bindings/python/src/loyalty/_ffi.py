"""Finding, loading and declaring the C library (ctypes; no compiler needed).

Every prototype of include/loyalty.h that the binding uses is declared here
once, so a wrong argument type fails in ctypes instead of corrupting memory.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import (
    POINTER,
    c_char,
    c_char_p,
    c_int,
    c_int64,
    c_size_t,
    c_uint,
    c_uint64,
    c_void_p,
)
from typing import Any, List, Optional, Tuple

# The C library this binding was written against (LOY_VERSION_NUMBER of
# include/loyalty.h): the loaded library must have the same major version
# and be at least this one, since only additions come within a major.
EXPECTED_VERSION_NUMBER = 10000
EXPECTED_MAJOR = EXPECTED_VERSION_NUMBER // 10000

if sys.platform == "darwin":
    SONAME = "libloyalty.1.dylib"
elif sys.platform == "win32":
    SONAME = "loyalty.dll"
else:
    SONAME = "libloyalty.so.1"

_BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_lib", SONAME)


# Opaque handle types: distinct pointer classes so ctypes refuses to pass a
# member where a policy is expected.
class _Opaque(ctypes.Structure):
    pass


class loy_policy(_Opaque):
    pass


class loy_diag(_Opaque):
    pass


class loy_member(_Opaque):
    pass


class loy_event(_Opaque):
    pass


class loy_result(_Opaque):
    pass


class loy_node(_Opaque):
    pass


PolicyP = POINTER(loy_policy)
DiagP = POINTER(loy_diag)
MemberP = POINTER(loy_member)
EventP = POINTER(loy_event)
ResultP = POINTER(loy_result)
NodeP = POINTER(loy_node)

# loy_node_kind
NODE_NULL = 0
NODE_BOOL = 1
NODE_INT = 2
NODE_DECIMAL = 3
NODE_STRING = 4
NODE_LIST = 5
NODE_MAP = 6

# loy_kind
KIND_TIER = 1
KIND_MULTIPLIER = 2
KIND_ACTION = 3
KIND_GIFT = 4
KIND_BENEFIT = 5
KIND_PLAN = 6
KIND_STAGE = 7

# loy_event_type
EVENT_ORDER = 1
EVENT_RETURN = 2
EVENT_ACTION = 3
EVENT_REDEEM = 4
EVENT_USE_BENEFIT = 5
EVENT_JOIN_PAID = 6
EVENT_PROFILE = 7
EVENT_TICK = 8

# loy_metric
METRIC_SPEND = 0
METRIC_ORDERS = 1
METRIC_GROWTH = 2
METRIC_POINTS_EARNED = 3

RESULT_TRACE = 1
RESULT_FINGERPRINT = 2

DateBuf = c_char * 11


def _declare(lib: Any) -> None:
    def fn(name: str, restype: Any, *argtypes: Any) -> None:
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = list(argtypes)

    fn("loy_version", c_char_p)
    fn("loy_version_number", c_int)
    fn("loy_strerror", c_char_p, c_int)
    fn("loy_error_name", c_char_p, c_int)

    fn("loy_policy_load_file", c_int, POINTER(PolicyP), c_char_p, POINTER(DiagP))
    fn("loy_policy_load_buffer", c_int, POINTER(PolicyP), c_void_p, c_size_t, c_char_p,
       POINTER(DiagP))
    fn("loy_policy_free", None, PolicyP)
    fn("loy_diag_count", c_size_t, DiagP)
    fn("loy_diag_file", c_char_p, DiagP)
    fn("loy_diag_line", c_uint, DiagP, c_size_t)
    fn("loy_diag_column", c_uint, DiagP, c_size_t)
    fn("loy_diag_message", c_char_p, DiagP, c_size_t)
    fn("loy_diag_free", None, DiagP)
    fn("loy_policy_count", c_size_t, PolicyP, c_int)
    fn("loy_policy_id", c_char_p, PolicyP, c_int, c_size_t)
    fn("loy_policy_name", c_char_p, PolicyP, c_int, c_size_t)
    fn("loy_policy_benefit_kind", c_char_p, PolicyP, c_size_t)
    fn("loy_policy_program", c_char_p, PolicyP)
    fn("loy_policy_currency", c_char_p, PolicyP)
    fn("loy_policy_minor_units", c_int, PolicyP)
    fn("loy_policy_redeem_rate", c_int, PolicyP, POINTER(c_int64), POINTER(c_int64))
    fn("loy_policy_fingerprint", c_uint64, PolicyP)
    fn("loy_policy_fingerprint_hex", None, PolicyP, POINTER(c_char))

    fn("loy_member_create", c_int, POINTER(MemberP), PolicyP)
    fn("loy_member_new", c_int, POINTER(MemberP), PolicyP, c_char_p, c_char_p)
    fn("loy_member_init", c_int, MemberP, c_char_p, c_char_p)
    fn("loy_member_free", None, MemberP)
    fn("loy_member_error", c_char_p, MemberP)
    fn("loy_member_set_birthday", c_int, MemberP, c_char_p)
    fn("loy_member_add_tag", c_int, MemberP, c_char_p)
    fn("loy_member_to_bytes", c_int, MemberP, POINTER(c_void_p), POINTER(c_size_t))
    fn("loy_member_load", c_int, MemberP, c_void_p, c_size_t)
    fn("loy_member_id", c_char_p, MemberP)
    fn("loy_member_tier", c_char_p, MemberP)
    fn("loy_member_tier_since", c_int, MemberP, POINTER(c_char))
    fn("loy_member_stage", c_char_p, MemberP)
    fn("loy_member_points_available", c_int64, MemberP)
    fn("loy_member_points_pending", c_int64, MemberP)
    fn("loy_member_lot_count", c_size_t, MemberP)
    fn("loy_member_lot", c_int, MemberP, c_size_t, POINTER(c_int64), POINTER(c_char),
       POINTER(c_char))
    fn("loy_member_metric", c_int, MemberP, c_char_p, POINTER(c_int64))

    fn("loy_event_new", c_int, POINTER(EventP), PolicyP)
    fn("loy_event_reset", c_int, EventP, c_int, c_char_p, c_char_p)
    fn("loy_event_free", None, EventP)
    fn("loy_event_set_channel", c_int, EventP, c_char_p)
    fn("loy_event_set_store", c_int, EventP, c_char_p)
    fn("loy_event_set_savings", c_int, EventP, c_int64)
    fn("loy_event_add_line", c_int, EventP, c_char_p, c_char_p, c_int64, c_int64)
    fn("loy_event_set_amount", c_int, EventP, c_int64)
    fn("loy_event_set_original", c_int, EventP, c_char_p, c_char_p, c_int64, c_int64)
    fn("loy_event_set_kind", c_int, EventP, c_char_p)
    fn("loy_event_set_points", c_int, EventP, c_int64)
    fn("loy_event_set_order_amount", c_int, EventP, c_int64)
    fn("loy_event_set_benefit", c_int, EventP, c_char_p)
    fn("loy_event_set_plan", c_int, EventP, c_char_p)
    fn("loy_event_set_birthday", c_int, EventP, c_char_p)
    fn("loy_event_clear_tags", c_int, EventP)
    fn("loy_event_add_tag", c_int, EventP, c_char_p)

    fn("loy_result_new", c_int, POINTER(ResultP), PolicyP)
    fn("loy_result_free", None, ResultP)
    fn("loy_result_set_options", None, ResultP, c_uint)
    fn("loy_apply", c_int, PolicyP, MemberP, EventP, ResultP)
    fn("loy_query_benefits", c_int, PolicyP, MemberP, c_char_p, c_char_p, c_char_p, ResultP)
    fn("loy_result_code", c_int, ResultP)
    fn("loy_result_message", c_char_p, ResultP)
    fn("loy_result_root", NodeP, ResultP)

    fn("loy_node_type", c_int, NodeP)
    fn("loy_node_count", c_size_t, NodeP)
    fn("loy_node_first", NodeP, NodeP)
    fn("loy_node_next", NodeP, NodeP)
    fn("loy_node_at", NodeP, NodeP, c_size_t)
    fn("loy_node_key", c_char_p, NodeP)
    fn("loy_node_get", NodeP, NodeP, c_char_p)
    fn("loy_node_int", c_int64, NodeP)
    fn("loy_node_bool", c_int, NodeP)
    # c_void_p, not c_char_p: the text is read with its length (it may hold
    # NUL bytes), which c_char_p's automatic conversion would cut.
    fn("loy_node_str", c_void_p, NodeP, POINTER(c_size_t))

    fn("loy_member_init_json", c_int, MemberP, c_char_p, c_size_t, ResultP)
    fn("loy_apply_json_line", c_int, PolicyP, MemberP, c_char_p, c_size_t, ResultP)
    fn("loy_apply_json", c_int, PolicyP, c_void_p, c_size_t, c_char_p, c_size_t, ResultP)
    fn("loy_result_state", c_void_p, ResultP, POINTER(c_size_t))
    fn("loy_result_json", c_void_p, ResultP, POINTER(c_size_t))


def _candidates() -> List[Tuple[str, str]]:
    """Where to look, in order: (what, path or name)."""
    found: List[Tuple[str, str]] = []
    env = os.environ.get("LOYALTY_LIBRARY")
    if env:
        found.append(("$LOYALTY_LIBRARY", env))
    if os.path.exists(_BUNDLED):
        found.append(("bundled", _BUNDLED))
    found.append(("system", SONAME))
    return found


def _load() -> Tuple[Any, str]:
    tried: List[str] = []
    for what, path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError as exc:
            # An explicit $LOYALTY_LIBRARY that does not load is an error, not a
            # reason to fall back silently to another copy.
            if what == "$LOYALTY_LIBRARY":
                raise ImportError(f"loyalty: $LOYALTY_LIBRARY={path!r} does not load: {exc}") from exc
            tried.append(f"{what} {path}: {exc}")
            continue
        return lib, path
    raise ImportError(
        "loyalty: the C library libloyalty could not be loaded; tried:\n  "
        + "\n  ".join(tried)
        + "\nSet LOYALTY_LIBRARY to the path of libloyalty.so.1, or install the library."
    )


def _check_version(lib: Any, path: str) -> int:
    lib.loy_version_number.restype = c_int
    lib.loy_version_number.argtypes = []
    number = int(lib.loy_version_number())
    if number // 10000 != EXPECTED_MAJOR or number < EXPECTED_VERSION_NUMBER:
        raise ImportError(
            f"loyalty: {path} is libloyalty version number {number}; this binding needs "
            f"major version {EXPECTED_MAJOR}, at least {EXPECTED_VERSION_NUMBER}"
        )
    return number


lib, library_path = _load()
library_version_number = _check_version(lib, library_path)
_declare(lib)
library_version: str = lib.loy_version().decode("ascii")


def text(value: Optional[bytes]) -> Optional[str]:
    """A borrowed C string as str (UTF-8), or None."""
    if value is None:
        return None
    return value.decode("utf-8", "surrogateescape")


def encode(value: Optional[str]) -> Optional[bytes]:
    """A str as the NUL-terminated UTF-8 that C expects; NUL inside is refused."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    data = value.encode("utf-8")
    if b"\x00" in data:
        raise ValueError("a string passed to libloyalty may not contain NUL")
    return data
