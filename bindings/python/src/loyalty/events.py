"""Events as dataclasses (POLICY.md §11.1), each turned into a loy_event.

Instants (``at``) are RFC 3339 strings with an offset, or timezone-aware
``datetime`` objects; dates are ``"YYYY-MM-DD"`` strings or ``date``
objects. Money is int minor units. Values are checked by the library when
the event is applied (a refusal comes back in the Result), not here.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Optional, Sequence, Union

from . import _ffi
from .errors import error_for

Instant = Union[str, _dt.datetime]
Date = Union[str, _dt.date]


class _Unchanged:
    """The value of a Profile field that the event leaves as it is."""

    _instance: Optional["_Unchanged"] = None

    def __new__(cls) -> "_Unchanged":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCHANGED"

    def __bool__(self) -> bool:
        return False


UNCHANGED = _Unchanged()


def instant_text(at: Instant) -> str:
    if isinstance(at, _dt.datetime):
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("an instant needs a timezone offset: use an aware datetime")
        return at.isoformat()
    if isinstance(at, str):
        return at
    raise TypeError(f"an instant is a str or an aware datetime, not {type(at).__name__}")


def date_text(day: Date) -> str:
    if isinstance(day, _dt.datetime):
        raise TypeError("a date is a str 'YYYY-MM-DD' or a datetime.date, not a datetime")
    if isinstance(day, _dt.date):
        return day.isoformat()
    if isinstance(day, str):
        return day
    raise TypeError(f"a date is a str or a datetime.date, not {type(day).__name__}")


def _int(value: Any, what: str) -> int:
    # bool is an int in Python; True as an amount is a caller's mistake.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int (minor units / points), not {type(value).__name__}")
    if not -(2 ** 63) <= value < 2 ** 63:
        raise OverflowError(f"{what} does not fit int64")
    return value


@dataclass(frozen=True)
class Line:
    """An order or return line: amount is the line total in minor units."""

    sku: Optional[str]
    category: Optional[str]
    amount: int
    qty: int = 1


@dataclass(frozen=True)
class Original:
    """The order a return refers to: its id, instant, amount and earned points."""

    id: str
    at: Instant
    amount: int
    points: int


@dataclass(frozen=True)
class Event:
    """Base of every event: an id (non-empty) and an instant."""

    id: str
    at: Instant

    _type: ClassVar[Optional[int]] = None

    def _fill(self, ev: Any, call: Callable[..., None]) -> None:
        channel = getattr(self, "channel", None)
        store = getattr(self, "store", None)
        if channel is not None:
            call(_ffi.lib.loy_event_set_channel, ev, _ffi.encode(channel))
        if store is not None:
            call(_ffi.lib.loy_event_set_store, ev, _ffi.encode(store))
        self._fill_own(ev, call)

    def _fill_own(self, ev: Any, call: Callable[..., None]) -> None:
        pass


def _lines(ev: Any, call: Callable[..., None], lines: Sequence[Line]) -> None:
    for i, line in enumerate(lines):
        if not isinstance(line, Line):
            raise TypeError(f"lines[{i}] must be a loyalty.Line, not {type(line).__name__}")
        call(_ffi.lib.loy_event_add_line, ev, _ffi.encode(line.sku), _ffi.encode(line.category),
             _int(line.amount, f"lines[{i}].amount"), _int(line.qty, f"lines[{i}].qty"))


@dataclass(frozen=True)
class Order(Event):
    lines: Sequence[Line] = ()
    channel: Optional[str] = None
    store: Optional[str] = None
    savings: Optional[int] = None
    _type: ClassVar[Optional[int]] = _ffi.EVENT_ORDER

    def _fill_own(self, ev: Any, call: Callable[..., None]) -> None:
        if self.savings is not None:
            call(_ffi.lib.loy_event_set_savings, ev, _int(self.savings, "savings"))
        _lines(ev, call, self.lines)


@dataclass(frozen=True)
class Return(Event):
    amount: int = 0
    original: Optional[Original] = None
    lines: Sequence[Line] = ()
    channel: Optional[str] = None
    store: Optional[str] = None
    _type: ClassVar[Optional[int]] = _ffi.EVENT_RETURN

    def _fill_own(self, ev: Any, call: Callable[..., None]) -> None:
        call(_ffi.lib.loy_event_set_amount, ev, _int(self.amount, "amount"))
        if self.original is not None:
            o = self.original
            call(_ffi.lib.loy_event_set_original, ev, _ffi.encode(o.id),
                 _ffi.encode(instant_text(o.at)), _int(o.amount, "original.amount"),
                 _int(o.points, "original.points"))
        _lines(ev, call, self.lines)


@dataclass(frozen=True)
class Action(Event):
    kind: Optional[str] = None
    channel: Optional[str] = None
    store: Optional[str] = None
    _type: ClassVar[Optional[int]] = _ffi.EVENT_ACTION

    def _fill_own(self, ev: Any, call: Callable[..., None]) -> None:
        if self.kind is not None:
            call(_ffi.lib.loy_event_set_kind, ev, _ffi.encode(self.kind))


@dataclass(frozen=True)
class Redeem(Event):
    points: int = 0
    order_amount: int = 0
    channel: Optional[str] = None
    store: Optional[str] = None
    _type: ClassVar[Optional[int]] = _ffi.EVENT_REDEEM

    def _fill_own(self, ev: Any, call: Callable[..., None]) -> None:
        call(_ffi.lib.loy_event_set_points, ev, _int(self.points, "points"))
        call(_ffi.lib.loy_event_set_order_amount, ev, _int(self.order_amount, "order_amount"))


@dataclass(frozen=True)
class UseBenefit(Event):
    benefit: Optional[str] = None
    channel: Optional[str] = None
    store: Optional[str] = None
    _type: ClassVar[Optional[int]] = _ffi.EVENT_USE_BENEFIT

    def _fill_own(self, ev: Any, call: Callable[..., None]) -> None:
        if self.benefit is not None:
            call(_ffi.lib.loy_event_set_benefit, ev, _ffi.encode(self.benefit))


@dataclass(frozen=True)
class JoinPaid(Event):
    plan: Optional[str] = None
    channel: Optional[str] = None
    store: Optional[str] = None
    _type: ClassVar[Optional[int]] = _ffi.EVENT_JOIN_PAID

    def _fill_own(self, ev: Any, call: Callable[..., None]) -> None:
        if self.plan is not None:
            call(_ffi.lib.loy_event_set_plan, ev, _ffi.encode(self.plan))


@dataclass(frozen=True)
class Profile(Event):
    """A profile change: ``birthday`` a date or None (remove it), ``tags`` the
    new tags (replacing the old ones). UNCHANGED leaves a field as it is; with
    both UNCHANGED the library refuses the event (LOY_E_INVALID_EVENT)."""

    birthday: Union[Date, None, _Unchanged] = UNCHANGED
    tags: Union[Sequence[str], _Unchanged] = UNCHANGED
    channel: Optional[str] = None
    store: Optional[str] = None
    _type: ClassVar[Optional[int]] = _ffi.EVENT_PROFILE

    def _fill_own(self, ev: Any, call: Callable[..., None]) -> None:
        if not isinstance(self.birthday, _Unchanged):
            day = None if self.birthday is None else date_text(self.birthday)
            call(_ffi.lib.loy_event_set_birthday, ev, _ffi.encode(day))
        if not isinstance(self.tags, _Unchanged):
            if isinstance(self.tags, str):
                raise TypeError("tags is a sequence of str, not one str")
            call(_ffi.lib.loy_event_clear_tags, ev)
            for tag in self.tags:
                call(_ffi.lib.loy_event_add_tag, ev, _ffi.encode(tag))


@dataclass(frozen=True)
class Tick(Event):
    """No business: lets time-driven rules run (reviews, expiry, releases...)."""

    channel: Optional[str] = None
    store: Optional[str] = None
    _type: ClassVar[Optional[int]] = _ffi.EVENT_TICK


def build(ev: Any, event: Event) -> None:
    """Reset the C event handle ``ev`` to ``event``. Raises on a setter failure."""
    if not isinstance(event, Event) or type(event) is Event or event._type is None:
        raise TypeError(f"expected a loyalty event (Order, Return, ...), not {type(event).__name__}")

    def call(fn: Callable[..., int], *args: Any) -> None:
        rc = fn(*args)
        if rc != 0:
            raise error_for(rc, f"building the {type(event).__name__} event failed")

    if not isinstance(event.id, str):
        raise TypeError("an event id is a str")
    call(_ffi.lib.loy_event_reset, ev, event._type, _ffi.encode(event.id),
         _ffi.encode(instant_text(event.at)))
    event._fill(ev, call)


__all__ = ["UNCHANGED", "Line", "Original", "Event", "Order", "Return", "Action", "Redeem",
           "UseBenefit", "JoinPaid", "Profile", "Tick"]
