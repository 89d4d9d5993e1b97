"""Orders and their life cycle as an explicit transition table."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    TAKE_PROFIT = "TAKE_PROFIT"
    STOP_LOSS = "STOP_LOSS"
    TRAILING_STOP_LOSS = "TRAILING_STOP_LOSS"


_PROTECTIVE = frozenset({OrderType.TAKE_PROFIT, OrderType.STOP_LOSS, OrderType.TRAILING_STOP_LOSS})


class TimeInForce(StrEnum):
    """How long an order may wait: till cancelled, till a date (``Order.gtd_time``), or now or
    never (IOC fills what it can at once, FOK all of it or nothing)."""

    GTC = "GTC"
    FOK = "FOK"
    IOC = "IOC"
    GTD = "GTD"


class OrderStatus(StrEnum):
    """Where an order is in its life. Terminal states never change again."""

    INITIALIZED = "INITIALIZED"
    SUBMITTED = "SUBMITTED"
    WORKING = "WORKING"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        """Still able to fill: sent to the venue and not yet done."""
        return self in _OPEN


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED})
_OPEN = frozenset({OrderStatus.SUBMITTED, OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED})

S = OrderStatus
#: Where each status may go next. Anything else is a bug in the engine or a venue, and raises.
#: WORKING -> WORKING is a modify (OANDA replaces the order); the terminal states go nowhere.
NEXT: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.INITIALIZED: frozenset({S.SUBMITTED, S.REJECTED}),
    S.SUBMITTED: frozenset({S.WORKING, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    S.WORKING: frozenset({S.WORKING, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED}),
}
del S
#: Every legal move as (from, to).
TRANSITIONS: frozenset[tuple[OrderStatus, OrderStatus]] = frozenset(
    (old, new) for old, targets in NEXT.items() for new in targets
)


class IllegalTransition(Exception):
    """An order was asked to move in a way the life cycle forbids."""

    def __init__(self, order_id: str, old: OrderStatus, new: OrderStatus) -> None:
        super().__init__(f"order {order_id}: illegal transition {old.value} -> {new.value}")
        self.order_id = order_id
        self.old = old
        self.new = new


def check_transition(order_id: str, old: OrderStatus, new: OrderStatus) -> None:
    if (old, new) not in TRANSITIONS:
        raise IllegalTransition(order_id, old, new)


class CancelWhy(StrEnum):
    """Why tmt asked the venue to cancel a working order (journaled with the request, and
    with the cancel when the venue confirms it). A cancel the venue made on its own (expiry, a
    linked trade closing) is ``VENUE``, with the venue's reason beside it."""

    USER = "user"  # a trader's cancel or cancel-all (the origin says from where)
    KILL_SWITCH = "kill switch"
    DAILY_LOSS = "daily loss"  # the daily loss limit was breached: the account HALTED
    HALTED = "halted"  # an order the venue accepted after its account had HALTED
    SHUTDOWN = "shutdown"  # [engine] on_shutdown = "cancel"
    RECONCILIATION = "reconciliation"  # no longer working at the venue, found on reconnect
    VENUE = "venue"


def cancel_reason(why: str | None, requested_by: str | None, venue_reason: str) -> str:
    """A cancelled order's reason as shown: why tmt asked (`kill switch`, `user (cli)`), or the
    venue's own reason for a cancel it made (`INSUFFICIENT_MARGIN`; also for events journaled
    before whys were)."""
    if not why or why == CancelWhy.VENUE:
        return venue_reason
    if why == CancelWhy.USER:
        return f"user ({requested_by})" if requested_by else "user"
    return why


@dataclass(frozen=True, slots=True)
class Order:
    """One order as the engine knows it; replaced (never mutated) on every change.

    ``units`` is signed: positive buys, negative sells. ``trade_id`` is set on protective
    (take-profit / stop-loss) orders, which belong to an open trade, as OANDA attaches them.
    """

    id: str
    account: str
    instrument: str
    units: int
    type: OrderType
    status: OrderStatus = OrderStatus.INITIALIZED
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trailing_stop_distance: Decimal | None = None
    trade_id: str | None = None
    reduce_only: bool = False
    filled_units: int = 0
    avg_fill_price: Decimal | None = None
    venue_id: str | None = None
    reason: str = ""
    origin: str = "ui"
    created_ts: float = 0.0
    updated_ts: float = 0.0
    gtd_time: float | None = None  # a GTD order expires at this epoch second (UTC)

    @property
    def side(self) -> str:
        return "BUY" if self.units > 0 else "SELL"

    @property
    def remaining_units(self) -> int:
        return self.units - self.filled_units

    @property
    def is_protective(self) -> bool:
        return self.type in _PROTECTIVE

    def moved_to(self, status: OrderStatus, **changes: Any) -> Order:
        """This order in ``status``; raises IllegalTransition when the table forbids it."""
        check_transition(self.id, self.status, status)
        changes["status"] = status
        return self.with_changes(changes)

    def with_changes(self, changes: dict[str, Any]) -> Order:
        """A copy with ``changes`` applied: ``dataclasses.replace`` without its per-call
        introspection, which showed up at ~14 us an order on the order path."""
        new = object.__new__(Order)
        for name in _FIELDS:
            object.__setattr__(new, name, changes[name] if name in changes else getattr(self, name))
        unknown = changes.keys() - _FIELD_SET
        if unknown:
            raise TypeError(f"Order has no field(s) {sorted(unknown)}")
        return new


_FIELDS = tuple(f.name for f in fields(Order))
_FIELD_SET = frozenset(_FIELDS)
