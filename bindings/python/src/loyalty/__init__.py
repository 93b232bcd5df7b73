"""libloyalty for Python: loyalty-program rules from a YAML policy.

    import loyalty
    policy = loyalty.Policy.from_file("apparel.yaml")
    member = loyalty.Member.new(policy, "M-0001", "2025-03-02", birthday="1990-11-20")
    result = member.apply(loyalty.Order("O-1", "2026-11-11T20:15:00+08:00",
                                        [loyalty.Line("COAT-1", "coats", 129900, 1)]))
    result.raise_for_error()
    for effect in result.effects:
        print(effect["type"], effect)
    state = member.to_bytes()      # store it with the effects, in one transaction

A thin ctypes layer over the C library (see README.md for how the library is
found). A Policy is immutable and may be shared by threads; a Member belongs
to one thread at a time.
"""

from ._ffi import (
    EXPECTED_VERSION_NUMBER,
    library_path,
    library_version,
    library_version_number,
)
from ._core import BenefitInfo, Entry, Lot, Member, Policy, Result, ResultError
from .errors import (
    BelowMinPoints,
    BenefitLimitReached,
    BenefitNotOpen,
    ClosedError,
    Diagnostic,
    DuplicateEvent,
    EventRefused,
    InsufficientPoints,
    InvalidArgument,
    InvalidEvent,
    InvalidMember,
    InvalidQuery,
    LoyaltyError,
    MalformedJSON,
    NotStepMultiple,
    OutOfMemory,
    OutOfOrder,
    OverOrderShare,
    Overflow,
    PlanConflict,
    PolicyError,
    PolicyFileError,
    RedeemDisabled,
    StateChecksum,
    StateError,
    StatePolicyMismatch,
    StateTruncated,
    StateVersion,
    UnknownBenefit,
    UnknownPlan,
    UnknownTier,
)
from .events import (
    UNCHANGED,
    Action,
    Event,
    JoinPaid,
    Line,
    Order,
    Original,
    Profile,
    Redeem,
    Return,
    Tick,
    UseBenefit,
)

__version__ = "1.0.0"

__all__ = [
    "__version__", "library_path", "library_version", "library_version_number",
    "EXPECTED_VERSION_NUMBER",
    "Policy", "Member", "Result", "ResultError", "Entry", "BenefitInfo", "Lot",
    "Event", "Order", "Line", "Return", "Original", "Action", "Redeem", "UseBenefit",
    "JoinPaid", "Profile", "Tick", "UNCHANGED",
    "LoyaltyError", "PolicyError", "PolicyFileError", "Diagnostic", "StateError",
    "StateTruncated", "StateChecksum", "StateVersion", "StatePolicyMismatch", "EventRefused",
    "InvalidEvent", "Overflow", "DuplicateEvent", "OutOfOrder", "InvalidMember", "UnknownTier",
    "UnknownPlan", "UnknownBenefit", "PlanConflict", "RedeemDisabled", "InsufficientPoints",
    "BelowMinPoints", "NotStepMultiple", "OverOrderShare", "BenefitNotOpen",
    "BenefitLimitReached", "InvalidQuery", "MalformedJSON", "OutOfMemory", "InvalidArgument",
    "ClosedError",
]
