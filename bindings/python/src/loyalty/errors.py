"""The exceptions of the binding, and the one place that maps C codes to them.

    LoyaltyError                     every error of the library (.code, .name, .message)
    ├── PolicyError                  a policy did not load (.errors: list of Diagnostic)
    │   └── PolicyFileError          ... because the file could not be read (also an OSError)
    ├── StateError                   state bytes refused by Member.from_bytes
    │   ├── StateTruncated
    │   ├── StateChecksum
    │   ├── StateVersion
    │   └── StatePolicyMismatch      the state names a tier, plan or stage the policy lacks
    ├── EventRefused                 an event, query or member object refused (.reasons, .result)
    │   ├── InvalidEvent, Overflow, DuplicateEvent, OutOfOrder, InvalidMember,
    │   ├── UnknownTier, UnknownPlan, UnknownBenefit, PlanConflict, RedeemDisabled,
    │   ├── InsufficientPoints, BelowMinPoints, NotStepMultiple, OverOrderShare,
    │   └── BenefitNotOpen, BenefitLimitReached, InvalidQuery, MalformedJSON
    ├── OutOfMemory                  (also a MemoryError)
    ├── InvalidArgument              API misuse (also a ValueError)
    └── ClosedError                  a handle used after close()

Every class carries its C code as the class attribute ``code`` (an int, e.g.
``DuplicateEvent.code == -12``) and ``name`` ("LOY_E_DUPLICATE").
"""

from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Type

OK = 0
E_NOMEM = -1
E_INVALID_ARG = -2
E_IO = -3
E_POLICY = -4
E_INVALID_EVENT = -10
E_OVERFLOW = -11
E_DUPLICATE = -12
E_OUT_OF_ORDER = -13
E_INVALID_MEMBER = -14
E_UNKNOWN_TIER = -15
E_UNKNOWN_PLAN = -16
E_UNKNOWN_BENEFIT = -17
E_PLAN_CONFLICT = -18
E_REDEEM_DISABLED = -19
E_INSUFFICIENT_POINTS = -20
E_BELOW_MIN_POINTS = -21
E_NOT_STEP_MULTIPLE = -22
E_OVER_ORDER_SHARE = -23
E_BENEFIT_NOT_OPEN = -24
E_BENEFIT_LIMIT_REACHED = -25
E_INVALID_QUERY = -26
E_STATE_TRUNCATED = -27
E_STATE_CHECKSUM = -28
E_STATE_VERSION = -29
E_STATE_POLICY = -30
E_JSON = -31


class Diagnostic(NamedTuple):
    """One load error of a policy: a (file, line, column, message) tuple."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class LoyaltyError(Exception):
    """Every error raised by the binding. ``code`` is the C code (negative)."""

    code: int = -9999
    name: str = "LOY_E_UNKNOWN"

    def __init__(self, message: str = "", *, code: Optional[int] = None,
                 name: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        # An instance of the base class made for an unmapped code keeps that
        # code; subclasses keep their class attributes.
        if code is not None:
            self.code = code
        if name is not None:
            self.name = name

    def __str__(self) -> str:
        return f"{self.name}: {self.message}" if self.message else self.name


class PolicyError(LoyaltyError):
    """A policy did not load; ``errors`` lists every (file, line, column, message)."""

    code = E_POLICY
    name = "LOY_E_POLICY"

    def __init__(self, message: str = "", errors: Sequence[Diagnostic] = (), **kw: Any) -> None:
        self.errors: List[Diagnostic] = list(errors)
        if not message and self.errors:
            message = "; ".join(str(d) for d in self.errors)
        super().__init__(message, **kw)


class PolicyFileError(PolicyError, OSError):
    """The policy file could not be read (LOY_E_IO)."""

    code = E_IO
    name = "LOY_E_IO"


class StateError(LoyaltyError):
    """State bytes that Member.from_bytes refused; the member is not made."""


class StateTruncated(StateError):
    code = E_STATE_TRUNCATED
    name = "LOY_E_STATE_TRUNCATED"


class StateChecksum(StateError):
    code = E_STATE_CHECKSUM
    name = "LOY_E_STATE_CHECKSUM"


class StateVersion(StateError):
    code = E_STATE_VERSION
    name = "LOY_E_STATE_VERSION"


class StatePolicyMismatch(StateError):
    code = E_STATE_POLICY
    name = "LOY_E_STATE_POLICY"


class EventRefused(LoyaltyError):
    """The library refused an event, a query or a member object.

    ``reasons`` holds the reasons of a refused benefit use (POLICY.md §11.4),
    ``result`` the whole Result when the refusal came from one.
    """

    def __init__(self, message: str = "", reasons: Optional[List[Any]] = None,
                 result: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.reasons: List[Any] = list(reasons or [])
        self.result = result


class InvalidEvent(EventRefused):
    """The event is invalid (POLICY.md §11.5)."""

    code = E_INVALID_EVENT
    name = "LOY_E_INVALID_EVENT"


class Overflow(EventRefused):
    """A number or date is out of range."""

    code = E_OVERFLOW
    name = "LOY_E_OVERFLOW"


class DuplicateEvent(EventRefused):
    """The event's id was already applied."""

    code = E_DUPLICATE
    name = "LOY_E_DUPLICATE"


class OutOfOrder(EventRefused):
    """The event is earlier than the last accepted one."""

    code = E_OUT_OF_ORDER
    name = "LOY_E_OUT_OF_ORDER"


class InvalidMember(EventRefused):
    """The member object or an import call is refused."""

    code = E_INVALID_MEMBER
    name = "LOY_E_INVALID_MEMBER"


class UnknownTier(EventRefused):
    """A tier the policy lacks."""

    code = E_UNKNOWN_TIER
    name = "LOY_E_UNKNOWN_TIER"


class UnknownPlan(EventRefused):
    """A paid plan the policy lacks."""

    code = E_UNKNOWN_PLAN
    name = "LOY_E_UNKNOWN_PLAN"


class UnknownBenefit(EventRefused):
    """A benefit the policy lacks."""

    code = E_UNKNOWN_BENEFIT
    name = "LOY_E_UNKNOWN_BENEFIT"


class PlanConflict(EventRefused):
    """Another paid plan is running."""

    code = E_PLAN_CONFLICT
    name = "LOY_E_PLAN_CONFLICT"


class RedeemDisabled(EventRefused):
    """The policy has no points.redeem."""

    code = E_REDEEM_DISABLED
    name = "LOY_E_REDEEM_DISABLED"


class InsufficientPoints(EventRefused):
    """Not enough points available."""

    code = E_INSUFFICIENT_POINTS
    name = "LOY_E_INSUFFICIENT_POINTS"


class BelowMinPoints(EventRefused):
    """Fewer points than the minimum redemption."""

    code = E_BELOW_MIN_POINTS
    name = "LOY_E_BELOW_MIN_POINTS"


class NotStepMultiple(EventRefused):
    """Points are not a multiple of the redemption step."""

    code = E_NOT_STEP_MULTIPLE
    name = "LOY_E_NOT_STEP_MULTIPLE"


class OverOrderShare(EventRefused):
    """The redemption exceeds max_order_share of the order."""

    code = E_OVER_ORDER_SHARE
    name = "LOY_E_OVER_ORDER_SHARE"


class BenefitNotOpen(EventRefused):
    """The benefit is not open to the member now."""

    code = E_BENEFIT_NOT_OPEN
    name = "LOY_E_BENEFIT_NOT_OPEN"


class BenefitLimitReached(EventRefused):
    """The benefit's limit is reached (and is its only reason)."""

    code = E_BENEFIT_LIMIT_REACHED
    name = "LOY_E_BENEFIT_LIMIT_REACHED"


class InvalidQuery(EventRefused):
    """The query is invalid."""

    code = E_INVALID_QUERY
    name = "LOY_E_INVALID_QUERY"


class MalformedJSON(EventRefused):
    """A JSON text is malformed."""

    code = E_JSON
    name = "LOY_E_JSON"


class OutOfMemory(LoyaltyError, MemoryError):
    code = E_NOMEM
    name = "LOY_E_NOMEM"


class InvalidArgument(LoyaltyError, ValueError):
    code = E_INVALID_ARG
    name = "LOY_E_INVALID_ARG"


class ClosedError(LoyaltyError):
    """A Policy or Member used after close()."""

    code = E_INVALID_ARG
    name = "LOY_E_INVALID_ARG"


_BY_CODE: Dict[int, Type[LoyaltyError]] = {
    E_NOMEM: OutOfMemory,
    E_INVALID_ARG: InvalidArgument,
    E_IO: PolicyFileError,
    E_POLICY: PolicyError,
    E_STATE_TRUNCATED: StateTruncated,
    E_STATE_CHECKSUM: StateChecksum,
    E_STATE_VERSION: StateVersion,
    E_STATE_POLICY: StatePolicyMismatch,
}
for _cls in (InvalidEvent, Overflow, DuplicateEvent, OutOfOrder, InvalidMember, UnknownTier,
             UnknownPlan, UnknownBenefit, PlanConflict, RedeemDisabled, InsufficientPoints,
             BelowMinPoints, NotStepMultiple, OverOrderShare, BenefitNotOpen,
             BenefitLimitReached, InvalidQuery, MalformedJSON):
    _BY_CODE[_cls.code] = _cls


def exception_class(code: int) -> Type[LoyaltyError]:
    """The exception class of a C code (LoyaltyError for a code it does not know)."""
    return _BY_CODE.get(code, LoyaltyError)


def error_for(code: int, message: str = "", *, name: Optional[str] = None,
              reasons: Optional[List[Any]] = None, result: Any = None) -> LoyaltyError:
    """The exception for a C code: the one place codes become exceptions."""
    cls = _BY_CODE.get(code)
    if cls is None:
        # A code newer than this binding: still an error, still carries its code.
        if name is None:
            from . import _ffi
            name = _ffi.text(_ffi.lib.loy_error_name(code)) or "LOY_E_UNKNOWN"
        return EventRefused(message, reasons, result, code=code, name=name)
    if not message:
        from . import _ffi
        message = _ffi.text(_ffi.lib.loy_strerror(code)) or ""
    if issubclass(cls, EventRefused):
        return cls(message, reasons, result)
    return cls(message)


def code_for_name(name: str) -> Optional[int]:
    """The C code of a name such as "LOY_E_DUPLICATE" (as results write it)."""
    if name == "LOY_OK":
        return OK
    for code, cls in _BY_CODE.items():
        if cls.name == name:
            return code
    return None


__all__ = [
    "Diagnostic", "LoyaltyError", "PolicyError", "PolicyFileError", "StateError",
    "StateTruncated", "StateChecksum", "StateVersion", "StatePolicyMismatch", "EventRefused",
    "InvalidEvent", "Overflow", "DuplicateEvent", "OutOfOrder", "InvalidMember", "UnknownTier",
    "UnknownPlan", "UnknownBenefit", "PlanConflict", "RedeemDisabled", "InsufficientPoints",
    "BelowMinPoints", "NotStepMultiple", "OverOrderShare", "BenefitNotOpen",
    "BenefitLimitReached", "InvalidQuery", "MalformedJSON", "OutOfMemory", "InvalidArgument",
    "ClosedError", "exception_class", "error_for", "code_for_name",
]
