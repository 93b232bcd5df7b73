"""Policy, Member and Result over the C handles."""

from __future__ import annotations

import ctypes
import datetime as _dt
import json
import os
import weakref
from ctypes import byref, c_char, c_int64, c_size_t, c_void_p
from dataclasses import dataclass, field
from decimal import Decimal
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Tuple,
    Union,
)

from . import _ffi
from ._ffi import lib
from .errors import (
    E_INVALID_ARG,
    E_IO,
    E_NOMEM,
    ClosedError,
    Diagnostic,
    InvalidArgument,
    LoyaltyError,
    PolicyError,
    PolicyFileError,
    error_for,
)
from .events import Date, Event, Instant, build, date_text, instant_text

JSONText = Union[str, bytes, bytearray, memoryview]
PathLike = Union[str, "os.PathLike[str]"]


# --------------------------------------------------------------- node tree

def _node_value(node: Any) -> Any:
    """A loy_node as plain Python data: dict, list, int, bool, None, str, and
    decimal.Decimal for an exact decimal ("0.95"), so nothing is rounded."""
    kind = lib.loy_node_type(node)
    if kind == _ffi.NODE_MAP:
        out: Dict[str, Any] = {}
        child = lib.loy_node_first(node)
        while child:
            key = lib.loy_node_key(child)
            out[key.decode("utf-8") if key is not None else ""] = _node_value(child)
            child = lib.loy_node_next(child)
        return out
    if kind == _ffi.NODE_LIST:
        items: List[Any] = []
        child = lib.loy_node_first(node)
        while child:
            items.append(_node_value(child))
            child = lib.loy_node_next(child)
        return items
    if kind == _ffi.NODE_INT:
        return int(lib.loy_node_int(node))
    if kind == _ffi.NODE_BOOL:
        return bool(lib.loy_node_bool(node))
    if kind in (_ffi.NODE_STRING, _ffi.NODE_DECIMAL):
        length = c_size_t(0)
        ptr = lib.loy_node_str(node, byref(length))
        raw = ctypes.string_at(ptr, length.value) if ptr else b""
        text = raw.decode("utf-8", "surrogateescape")
        return Decimal(text) if kind == _ffi.NODE_DECIMAL else text
    return None


def _result_tree(res: Any) -> Dict[str, Any]:
    root = lib.loy_result_root(res)
    if not root:
        return {}
    value = _node_value(root)
    return value if isinstance(value, dict) else {"value": value}


def _dump(value: Any) -> str:
    """JSON text of result data; a Decimal is written as the exact number it is."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(json.dumps(str(k), ensure_ascii=False) + ": " + _dump(v)
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    raise TypeError(f"not result data: {type(value).__name__}")


def _json_bytes(value: Union[JSONText, Mapping[str, Any]]) -> bytes:
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"expected a JSON line (str or bytes) or a dict, not {type(value).__name__}")


# ------------------------------------------------------------------ result

@dataclass(frozen=True)
class ResultError:
    """Why an event, query or member object was refused."""

    code: int                    # the C code, e.g. -12
    name: str                    # "LOY_E_DUPLICATE"
    message: str
    reasons: List[Any] = field(default_factory=list)


class Result:
    """One decision, converted from the result's node tree into plain data.

    ``effects`` is a list of dicts exactly as POLICY.md §11.3 describes them
    (money in minor units, dates as "YYYY-MM-DD" strings, an exact decimal as
    ``decimal.Decimal``). A refused event has ``error`` set and no effects.
    """

    __slots__ = ("_data", "_code")

    def __init__(self, data: Dict[str, Any], code: int) -> None:
        self._data = data
        self._code = code

    @property
    def ok(self) -> bool:
        """True when the event was accepted (or the query answered)."""
        return self._code == 0

    @property
    def code(self) -> int:
        return self._code

    @property
    def event(self) -> Optional[str]:
        """The event's id (None for a query, a member object, or no usable id)."""
        value = self._data.get("event")
        return value if isinstance(value, str) else None

    @property
    def effects(self) -> List[Dict[str, Any]]:
        return list(self._data.get("effects") or [])

    @property
    def member_summary(self) -> Optional[Dict[str, Any]]:
        """{"tier": ..., "points": {"available": ..., "pending": ...}, "stage": ...}."""
        return self._data.get("member")

    @property
    def trace(self) -> Optional[Any]:
        """The trace, when asked for with trace=True (its form is the library's)."""
        return self._data.get("trace")

    @property
    def query(self) -> Optional[str]:
        return self._data.get("query")

    @property
    def at(self) -> Optional[str]:
        return self._data.get("at")

    @property
    def benefits(self) -> List[Dict[str, Any]]:
        """For a benefits query: one entry per benefit, in policy order."""
        return list(self._data.get("benefits") or [])

    @property
    def error(self) -> Optional[ResultError]:
        err = self._data.get("error")
        if self._code == 0 and not err:
            return None
        err = err if isinstance(err, dict) else {}
        name = err.get("code")
        if not isinstance(name, str):
            name = _ffi.text(lib.loy_error_name(self._code)) or "LOY_E_UNKNOWN"
        return ResultError(self._code, name, str(err.get("message", "")),
                           list(err.get("reasons") or []))

    def raise_for_error(self) -> "Result":
        """Raise the EventRefused subclass of the refusal; return self if accepted."""
        err = self.error
        if err is not None:
            raise error_for(err.code, err.message, name=err.name, reasons=err.reasons, result=self)
        return self

    def to_dict(self) -> Dict[str, Any]:
        """The whole answer as plain data (the shape of POLICY.md §11.3/§11.4)."""
        return self._data

    def to_json(self) -> str:
        """The answer as one line of JSON; exact decimals stay exact."""
        return _dump(self._data)

    def __repr__(self) -> str:
        if self.error is not None:
            return f"<Result {self.event or self.query!r} refused {self.error.name}>"
        return f"<Result {self.event or self.query!r} {len(self.effects)} effects>"


# ------------------------------------------------------------------ policy

class Entry(NamedTuple):
    """A tier, plan, stage, multiplier, action or gift of a policy."""

    id: str
    name: Optional[str]


class BenefitInfo(NamedTuple):
    id: str
    name: Optional[str]
    kind: str


class _PolicyHandle:
    """Owns one loy_policy. Members hold it (through their finalizer), so the
    C policy outlives every member, event and result made under it."""

    __slots__ = ("ptr", "__weakref__")
    ptr: Any

    def __init__(self, ptr: Any) -> None:
        self.ptr = ptr
        weakref.finalize(self, lib.loy_policy_free, ptr)


def _diagnostics(diag: Any) -> List[Diagnostic]:
    if not diag:
        return []
    file = _ffi.text(lib.loy_diag_file(diag)) or "<memory>"
    return [Diagnostic(file, int(lib.loy_diag_line(diag, i)), int(lib.loy_diag_column(diag, i)),
                       _ffi.text(lib.loy_diag_message(diag, i)) or "")
            for i in range(lib.loy_diag_count(diag))]


def _load_error(rc: int, diags: List[Diagnostic], what: str) -> LoyaltyError:
    if rc == E_IO:
        return PolicyFileError(f"{what}: the file could not be read", diags)
    if rc == E_NOMEM:
        return error_for(rc, f"{what}: out of memory")
    if diags or rc != E_INVALID_ARG:
        return PolicyError("", diags) if diags else PolicyError(f"{what} did not load")
    return error_for(rc, f"{what}: invalid argument")


class Policy:
    """An immutable, loaded policy. Any number of threads may share one.

    Make it with Policy.from_file or Policy.from_string; ``close()`` (or a
    ``with`` block) releases it, and the C policy is freed once no Member made
    under it remains.
    """

    __slots__ = ("_h", "_name", "__weakref__")
    _h: Optional[_PolicyHandle]
    _name: str

    def __init__(self) -> None:
        raise TypeError("use Policy.from_file(path) or Policy.from_string(text)")

    @classmethod
    def _wrap(cls, ptr: Any, name: str) -> "Policy":
        self = object.__new__(cls)
        self._h = _PolicyHandle(ptr)
        self._name = name
        return self

    @classmethod
    def from_file(cls, path: PathLike) -> "Policy":
        """Load a YAML policy file. Raises PolicyError (``.errors``) or PolicyFileError."""
        fspath = os.fsencode(path)
        out = _ffi.PolicyP()
        diag = _ffi.DiagP()
        rc = lib.loy_policy_load_file(byref(out), fspath, byref(diag))
        try:
            diags = _diagnostics(diag)
        finally:
            lib.loy_diag_free(diag)
        if rc != 0 or not out:
            raise _load_error(rc, diags, os.fsdecode(path))
        return cls._wrap(out, os.fsdecode(path))

    @classmethod
    def from_string(cls, text: Union[str, bytes], name: Optional[str] = None) -> "Policy":
        """Load a policy from YAML text; ``name`` names it in load errors."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        buf = ctypes.create_string_buffer(data, len(data))
        out = _ffi.PolicyP()
        diag = _ffi.DiagP()
        rc = lib.loy_policy_load_buffer(byref(out), buf, len(data), _ffi.encode(name),
                                        byref(diag))
        try:
            diags = _diagnostics(diag)
        finally:
            lib.loy_diag_free(diag)
        if rc != 0 or not out:
            raise _load_error(rc, diags, name or "<memory>")
        return cls._wrap(out, name or "<memory>")

    # -- life cycle
    def _handle(self) -> _PolicyHandle:
        h = self._h
        if h is None:
            raise ClosedError("the policy is closed")
        return h

    @property
    def closed(self) -> bool:
        return self._h is None

    def close(self) -> None:
        """Release the policy. Members made under it keep working until they go."""
        self._h = None

    def __enter__(self) -> "Policy":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._h is None:
            return f"<loyalty.Policy {self._name!r} closed>"
        return f"<loyalty.Policy {self._name!r} {self.fingerprint}>"

    # -- what it defines
    def _entries(self, kind: int) -> Tuple[Entry, ...]:
        p = self._handle().ptr
        return tuple(Entry(_ffi.text(lib.loy_policy_id(p, kind, i)) or "",
                           _ffi.text(lib.loy_policy_name(p, kind, i)))
                     for i in range(lib.loy_policy_count(p, kind)))

    @property
    def tiers(self) -> Tuple[Entry, ...]:
        """Levels in ascending order; the first is the entry tier."""
        return self._entries(_ffi.KIND_TIER)

    @property
    def plans(self) -> Tuple[Entry, ...]:
        return self._entries(_ffi.KIND_PLAN)

    @property
    def stages(self) -> Tuple[Entry, ...]:
        return self._entries(_ffi.KIND_STAGE)

    @property
    def multipliers(self) -> Tuple[str, ...]:
        return tuple(e.id for e in self._entries(_ffi.KIND_MULTIPLIER))

    @property
    def actions(self) -> Tuple[str, ...]:
        return tuple(e.id for e in self._entries(_ffi.KIND_ACTION))

    @property
    def gifts(self) -> Tuple[str, ...]:
        """"upgrade:TIER", "birthday:TIER", "surprise:ID", "spend:ID"."""
        return tuple(e.id for e in self._entries(_ffi.KIND_GIFT))

    @property
    def benefits(self) -> Tuple[BenefitInfo, ...]:
        p = self._handle().ptr
        return tuple(BenefitInfo(_ffi.text(lib.loy_policy_id(p, _ffi.KIND_BENEFIT, i)) or "",
                                 _ffi.text(lib.loy_policy_name(p, _ffi.KIND_BENEFIT, i)),
                                 _ffi.text(lib.loy_policy_benefit_kind(p, i)) or "")
                     for i in range(lib.loy_policy_count(p, _ffi.KIND_BENEFIT)))

    @property
    def fingerprint(self) -> str:
        """XXH3-64 of the source bytes, as 16 lowercase hex digits."""
        buf = (c_char * 17)()
        lib.loy_policy_fingerprint_hex(self._handle().ptr, buf)
        return buf.value.decode("ascii")

    @property
    def program(self) -> Optional[str]:
        return _ffi.text(lib.loy_policy_program(self._handle().ptr))

    @property
    def currency(self) -> Optional[str]:
        return _ffi.text(lib.loy_policy_currency(self._handle().ptr))

    @property
    def minor_units(self) -> int:
        return int(lib.loy_policy_minor_units(self._handle().ptr))

    @property
    def redeem_rate(self) -> Optional[Tuple[int, int]]:
        """(points, amount): ``points`` buy ``amount`` minor units; None without redeem."""
        points, amount = c_int64(), c_int64()
        if lib.loy_policy_redeem_rate(self._handle().ptr, byref(points), byref(amount)) != 0:
            return None
        return int(points.value), int(amount.value)

    # -- deciding
    def apply(self, member: "Member", event: Event, *, trace: bool = False) -> Result:
        """The same as member.apply(event); the member must be made under this policy."""
        if member._ph is not self._handle():
            raise InvalidArgument("the member was made under another policy")
        return member.apply(event, trace=trace)

    def apply_json(self, state: Union[bytes, bytearray, memoryview, None],
                   line: Union[JSONText, Mapping[str, Any]], *,
                   trace: bool = False) -> Tuple[Result, bytes]:
        """The one-call form: state bytes and an event or query line in; the
        result and the state to store out (the input state when refused)."""
        h = self._handle()
        data = _json_bytes(line)
        state_bytes = bytes(state or b"")
        res = _ffi.ResultP()
        rc = lib.loy_result_new(byref(res), h.ptr)
        if rc != 0:
            raise error_for(rc)
        try:
            lib.loy_result_set_options(res, _ffi.RESULT_TRACE if trace else 0)
            sbuf = ctypes.create_string_buffer(state_bytes, len(state_bytes))
            rc = lib.loy_apply_json(h.ptr, sbuf, len(state_bytes), data, len(data), res)
            if rc in (E_NOMEM, E_INVALID_ARG):
                raise error_for(rc, _ffi.text(lib.loy_result_message(res)) or "")
            result = Result(_result_tree(res), rc)
            length = c_size_t(0)
            ptr = lib.loy_result_state(res, byref(length))
            new_state = ctypes.string_at(ptr, length.value) if ptr else state_bytes
            return result, new_state
        finally:
            lib.loy_result_free(res)


# ------------------------------------------------------------------ member

class Lot(NamedTuple):
    """A points lot: ``expires`` None for never, ``pending_until`` None when available."""

    points: int
    expires: Optional[_dt.date]
    pending_until: Optional[_dt.date]


class _MemberHandles:
    """The C handles of one Member; freed together by its finalizer."""

    __slots__ = ("member", "event", "result")

    def __init__(self, member: Any) -> None:
        self.member = member
        self.event: Any = None
        self.result: Any = None


def _free_member(handles: _MemberHandles, policy: _PolicyHandle) -> None:
    # `policy` is an argument only so that the finalizer keeps the C policy
    # alive until the handles made under it are gone.
    lib.loy_result_free(handles.result)
    lib.loy_event_free(handles.event)
    lib.loy_member_free(handles.member)
    handles.member = handles.event = handles.result = None
    del policy


def _day(buf: Any) -> Optional[_dt.date]:
    text = buf.value.decode("ascii")
    return _dt.date.fromisoformat(text) if text else None


class Member:
    """One member's state. Not thread-safe: one thread uses a Member at a time
    (different members under one policy may be used by different threads).

    Make one with Member.new, Member.from_json or Member.from_bytes; keep its
    ``to_bytes()`` with the effects of each accepted event.
    """

    __slots__ = ("_policy", "_ph", "_hs", "_finalizer", "__weakref__")
    _policy: Policy
    _ph: _PolicyHandle
    _hs: _MemberHandles
    _finalizer: "weakref.finalize[Any, Any]"

    def __init__(self) -> None:
        raise TypeError("use Member.new, Member.from_json or Member.from_bytes")

    @classmethod
    def _create(cls, policy: Policy) -> "Member":
        if not isinstance(policy, Policy):
            raise TypeError(f"expected a loyalty.Policy, not {type(policy).__name__}")
        ph = policy._handle()
        out = _ffi.MemberP()
        rc = lib.loy_member_create(byref(out), ph.ptr)
        if rc != 0 or not out:
            raise error_for(rc or E_NOMEM)
        self = object.__new__(cls)
        self._policy = policy
        self._ph = ph
        self._hs = _MemberHandles(out)
        self._finalizer = weakref.finalize(self, _free_member, self._hs, ph)
        return self

    @classmethod
    def new(cls, policy: Policy, id: str, joined: Date, birthday: Optional[Date] = None,
            tags: Iterable[str] = ()) -> "Member":
        """A new member: id, joining date, optional birthday and tags."""
        if isinstance(tags, str):
            raise TypeError("tags is a sequence of str, not one str")
        self = cls._create(policy)
        try:
            m = self._hs.member
            self._check(lib.loy_member_init(m, _ffi.encode(id), _ffi.encode(date_text(joined))))
            if birthday is not None:
                self._check(lib.loy_member_set_birthday(m, _ffi.encode(date_text(birthday))))
            for tag in tags:
                self._check(lib.loy_member_add_tag(m, _ffi.encode(tag)))
        except BaseException:
            self.close()
            raise
        return self

    @classmethod
    def from_json(cls, policy: Policy,
                  obj_or_line: Union[JSONText, Mapping[str, Any]]) -> "Member":
        """A member from a member object (POLICY.md §11.2), with any legacy
        import fields: a dict ({"member": {...}} or the inner object) or a JSON
        line. A refused object raises InvalidMember, UnknownTier, UnknownPlan..."""
        if isinstance(obj_or_line, Mapping) and "member" not in obj_or_line:
            obj_or_line = {"member": dict(obj_or_line)}
        data = _json_bytes(obj_or_line)
        self = cls._create(policy)
        try:
            res = self._result_handle(False)
            rc = lib.loy_member_init_json(self._hs.member, data, len(data), res)
            if rc != 0:
                result = Result(_result_tree(res), rc)
                err = result.error
                message = err.message if err else ""
                if not message:
                    message = _ffi.text(lib.loy_result_message(res)) or ""
                raise error_for(rc, message, reasons=err.reasons if err else None, result=result)
        except BaseException:
            self.close()
            raise
        return self

    @classmethod
    def from_bytes(cls, policy: Policy, data: Union[bytes, bytearray, memoryview]) -> "Member":
        """A member from its state bytes. Raises a StateError subclass when the
        bytes are truncated, corrupt, of an unknown version, or name a tier,
        plan or stage the policy lacks."""
        raw = bytes(data)
        self = cls._create(policy)
        try:
            buf = ctypes.create_string_buffer(raw, len(raw))
            self._check(lib.loy_member_load(self._hs.member, buf, len(raw)))
        except BaseException:
            self.close()
            raise
        return self

    # -- life cycle
    def _m(self) -> Any:
        m = self._hs.member
        if not m:
            raise ClosedError("the member is closed")
        return m

    def _check(self, rc: int) -> None:
        if rc != 0:
            message = _ffi.text(lib.loy_member_error(self._hs.member)) if self._hs.member else ""
            raise error_for(rc, message or "")

    def _result_handle(self, trace: bool) -> Any:
        if not self._hs.result:
            self._m()
            res = _ffi.ResultP()
            rc = lib.loy_result_new(byref(res), self._ph.ptr)
            if rc != 0 or not res:
                raise error_for(rc or E_NOMEM)
            self._hs.result = res
        lib.loy_result_set_options(self._hs.result, _ffi.RESULT_TRACE if trace else 0)
        return self._hs.result

    def _event_handle(self) -> Any:
        if not self._hs.event:
            self._m()
            ev = _ffi.EventP()
            rc = lib.loy_event_new(byref(ev), self._ph.ptr)
            if rc != 0 or not ev:
                raise error_for(rc or E_NOMEM)
            self._hs.event = ev
        return self._hs.event

    @property
    def policy(self) -> Policy:
        return self._policy

    @property
    def closed(self) -> bool:
        return not self._hs.member

    def close(self) -> None:
        """Free the C handles now (the finalizer does it otherwise)."""
        self._finalizer()

    def __enter__(self) -> "Member":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<loyalty.Member closed>"
        return (f"<loyalty.Member {self.id!r} tier={self.tier!r} "
                f"points={self.points_available}+{self.points_pending} pending>")

    # -- state bytes
    def to_bytes(self) -> bytes:
        """The state bytes to store with the effects (versioned, checksummed)."""
        m = self._m()
        ptr = c_void_p()
        length = c_size_t(0)
        self._check(lib.loy_member_to_bytes(m, byref(ptr), byref(length)))
        return ctypes.string_at(ptr.value, length.value) if ptr.value else b""

    def copy(self) -> "Member":
        """An independent copy (through the state bytes)."""
        return Member.from_bytes(self._policy, self.to_bytes())

    __copy__ = copy

    def __deepcopy__(self, memo: Any) -> "Member":
        return self.copy()

    # -- what a caller shows
    @property
    def id(self) -> str:
        return _ffi.text(lib.loy_member_id(self._m())) or ""

    @property
    def tier(self) -> str:
        return _ffi.text(lib.loy_member_tier(self._m())) or ""

    @property
    def tier_since(self) -> Optional[_dt.date]:
        buf = (c_char * 11)()
        if lib.loy_member_tier_since(self._m(), buf) != 0:
            return None
        return _day(buf)

    @property
    def stage(self) -> Optional[str]:
        return _ffi.text(lib.loy_member_stage(self._m()))

    @property
    def points_available(self) -> int:
        return int(lib.loy_member_points_available(self._m()))

    @property
    def points_pending(self) -> int:
        return int(lib.loy_member_points_pending(self._m()))

    @property
    def lots(self) -> List[Lot]:
        """Points lots, soonest-expiring first."""
        m = self._m()
        lots: List[Lot] = []
        for i in range(lib.loy_member_lot_count(m)):
            points = c_int64()
            expires = (c_char * 11)()
            pending = (c_char * 11)()
            self._check(lib.loy_member_lot(m, i, byref(points), expires, pending))
            lots.append(Lot(int(points.value), _day(expires), _day(pending)))
        return lots

    def metric(self, as_of: Date) -> int:
        """The tier metric (POLICY.md §3.1) in the tier window as of a date."""
        out = c_int64()
        self._check(lib.loy_member_metric(self._m(), _ffi.encode(date_text(as_of)), byref(out)))
        return int(out.value)

    # -- deciding
    def _finish(self, rc: int, res: Any) -> Result:
        if rc in (E_NOMEM, E_INVALID_ARG):
            raise error_for(rc, _ffi.text(lib.loy_result_message(res)) or "")
        return Result(_result_tree(res), rc)

    def apply(self, event: Event, *, trace: bool = False) -> Result:
        """Apply one event. Returns a Result either way: accepted (the member
        changed) or refused (``result.error`` set, the member unchanged); call
        ``result.raise_for_error()`` to turn a refusal into an exception."""
        m = self._m()
        ev = self._event_handle()
        build(ev, event)
        res = self._result_handle(trace)
        return self._finish(lib.loy_apply(self._ph.ptr, m, ev, res), res)

    def apply_json(self, line: Union[JSONText, Mapping[str, Any]], *,
                   trace: bool = False) -> Result:
        """Apply one wire line (POLICY.md §11.1 event or §11.4 query) and
        return its Result, refusals included, as apply() does."""
        m = self._m()
        data = _json_bytes(line)
        res = self._result_handle(trace)
        return self._finish(lib.loy_apply_json_line(self._ph.ptr, m, data, len(data), res), res)

    def benefits(self, at: Instant, channel: Optional[str] = None,
                 store: Optional[str] = None) -> Result:
        """The benefits query (POLICY.md §11.4): ``result.benefits`` lists every
        benefit with ``open`` and its ``reasons``. Never changes the member.
        A malformed instant raises InvalidQuery."""
        m = self._m()
        res = self._result_handle(False)
        rc = lib.loy_query_benefits(self._ph.ptr, m, _ffi.encode(instant_text(at)),
                                    _ffi.encode(channel), _ffi.encode(store), res)
        return self._finish(rc, res).raise_for_error()
