"""What a user (or a rule) asks the engine to do. Frozen, plain, and stamped with their origin."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from tmt_tui.domain.codec import from_wire, to_wire
from tmt_tui.domain.orders import OrderType, TimeInForce
from tmt_tui.domain.price_alerts import AlertSide
from tmt_tui.domain.reasons import Reason


class Origin(StrEnum):
    """Who asked: the workstation, the CLI, the control API, a signal, or an engine rule."""

    UI = "ui"
    CLI = "cli"
    API = "api"
    SIGNAL = "signal"
    AUTO = "auto"


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    account: str
    instrument: str
    units: int
    type: OrderType = OrderType.MARKET
    price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trailing_stop_distance: Decimal | None = None
    origin: Origin = Origin.UI
    gtd_time: float | None = None  # with time in force GTD: when it expires (epoch seconds)


@dataclass(frozen=True, slots=True)
class ModifyOrder:
    """New price and / or size of a working order. ``units`` is a size: the order keeps its side
    whatever the sign (a ticket speaks in sizes, and a modify must never flip an order)."""

    order_id: str
    price: Decimal | None = None
    units: int | None = None
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: str
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class ClosePosition:
    """Close ``units`` of a position (all of it when None) with a market order that only reduces;
    with ``trade_id``, close that one trade (OANDA's trade close) instead of the oldest first."""

    account: str
    instrument: str
    units: int | None = None
    origin: Origin = Origin.UI
    trade_id: str | None = None
    why: str = ""  # what the close is part of ("flatten"), kept on the order and its trades


@dataclass(frozen=True, slots=True)
class CancelAll:
    account: str | None = None
    origin: Origin = Origin.UI
    why: str = "user"  # a CancelWhy: the engine's own cancel-all at shutdown says so


@dataclass(frozen=True, slots=True)
class ControlReplay:
    """Steer a replay (`tmt replay`): ``action`` is ``pause``, ``resume``, ``speed`` (to
    ``speed``: a multiple of real time, 0 for as fast as it goes) or ``status``. The answer's
    payload is the ``ReplayProgress`` after it; an engine that is not replaying refuses it
    (``NOT_A_REPLAY``). Not journaled: it changes how fast ticks come, not what they are."""

    action: str = "status"
    speed: float | None = None
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class EngageKillSwitch:
    reason: str = "kill switch"
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class ResetKillSwitch:
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class SetReducing:
    """Enter (``on``) or leave REDUCING for one account, or all when ``account`` is None."""

    on: bool = True
    account: str | None = None
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class QueryTrades:
    """A query: closed trades, newest first (``account``, ``instrument`` and ``since`` filter;
    at most ``limit``). Answered in ``Reply.payload`` as a ``TradeHistory``; never journaled,
    and allowed on a read-only connection."""

    account: str | None = None
    instrument: str | None = None
    since: float | None = None
    limit: int = 500
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class QueryAnalytics:
    """A query: portfolio metrics, trade statistics and the equity curve of each account (or
    ``account``) between ``since`` and ``until``, computed off the engine's loop from its
    journal's equity rows and its closed trades. Answered as an ``AnalyticsReport``."""

    account: str | None = None
    since: float | None = None
    until: float | None = None
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class QueryPreview:
    """A query: what ``order`` would do and whether each pre-trade check passes, by the same
    guards a real order meets; nothing is sent or journaled. Answered as an ``OrderPreview``;
    allowed on a read-only connection."""

    account: str
    instrument: str
    units: int
    type: OrderType = OrderType.MARKET
    price: Decimal | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    origin: Origin = Origin.UI
    time_in_force: TimeInForce | None = None
    gtd_time: float | None = None

    @classmethod
    def of(cls, order: SubmitOrder) -> QueryPreview:
        """The preview of what ``order`` would do (flat on the wire, like every command)."""
        return cls(
            order.account, order.instrument, order.units, order.type, order.price,
            order.take_profit, order.stop_loss, order.origin, order.time_in_force,
            order.gtd_time,
        )  # fmt: skip

    @property
    def order(self) -> SubmitOrder:
        return SubmitOrder(
            self.account, self.instrument, self.units, self.type, self.price,
            time_in_force=self.time_in_force, take_profit=self.take_profit,
            stop_loss=self.stop_loss, origin=self.origin, gtd_time=self.gtd_time,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class SetPriceAlert:
    """Tell the trader when ``instrument`` trades ``side`` ``level`` (above: the bid reaches
    it; below: the ask does); it fires once. ``note`` is the trader's own words, shown when it
    fires. Allowed while halted: an alert trades nothing."""

    instrument: str
    side: AlertSide
    level: Decimal
    note: str = ""
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class CancelPriceAlert:
    alert_id: str
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class QueryPriceAlerts:
    """A query: the active price alerts (of ``instrument``, or all), and with ``finished`` the
    hit and cancelled ones the engine remembers. Answered as a ``PriceAlertList``."""

    instrument: str | None = None
    finished: bool = False
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class QueryBars:
    """A query: ``instrument``'s newest ``count`` closed bars of ``size`` (S5, M1, M5, M15,
    H1), the indicator lines over them, and the bar still open, for a chart. Answered as
    ``Candles`` from the engine's market state and journal; never journaled, allowed on a
    read-only connection."""

    instrument: str
    size: str = "M1"
    count: int = 120
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class StopEngine:
    """Stop the engine gracefully (journal flushed; working orders left or cancelled per
    ``engine.on_shutdown``). Attached screens see it disconnect."""

    origin: Origin = Origin.CLI


@dataclass(frozen=True, slots=True)
class Watch:
    """Put ``instrument`` on the watchlist (at row ``at``, else last), or move it there when it
    is on already; the feed subscribes it. Not journaled: the watchlist is not trading state."""

    instrument: str
    at: int | None = None
    origin: Origin = Origin.UI


@dataclass(frozen=True, slots=True)
class Unwatch:
    """Take ``instrument`` off the watchlist; the feed drops it unless a position, a working
    order or a conversion still needs its prices."""

    instrument: str
    origin: Origin = Origin.UI


Command = (
    SubmitOrder
    | ModifyOrder
    | CancelOrder
    | ClosePosition
    | CancelAll
    | ControlReplay
    | EngageKillSwitch
    | ResetKillSwitch
    | SetReducing
    | StopEngine
    | QueryTrades
    | QueryAnalytics
    | QueryPreview
    | SetPriceAlert
    | CancelPriceAlert
    | QueryPriceAlerts
    | Watch
    | Unwatch
    | QueryBars
)

COMMAND_TYPES: dict[str, type[Command]] = {
    cls.__name__: cls
    for cls in (
        SubmitOrder,
        ModifyOrder,
        CancelOrder,
        ClosePosition,
        CancelAll,
        ControlReplay,
        EngageKillSwitch,
        ResetKillSwitch,
        SetReducing,
        StopEngine,
        QueryTrades,
        QueryAnalytics,
        QueryPreview,
        SetPriceAlert,
        CancelPriceAlert,
        QueryPriceAlerts,
        Watch,
        Unwatch,
        QueryBars,
    )
}

#: Commands that only read: never journaled, allowed on read-only connections.
QUERIES: frozenset[type] = frozenset(
    {QueryTrades, QueryAnalytics, QueryPreview, QueryPriceAlerts, QueryBars}
)


#: The largest size any command may name: far beyond every instrument's and account's limit,
#: far inside the 64-bit integers the journal stores (a size past them once failed a commit).
MAX_UNITS = 10**12
#: Prices and distances live in (0, MAX_PRICE) with at most MAX_DECIMALS decimals; anything
#: else is refused before Decimal arithmetic can overflow or crawl through a million digits.
MAX_PRICE = Decimal(10) ** 9
MAX_DECIMALS = 12
#: Ids and names (accounts, instruments, orders, trades) and free text (a kill switch reason).
MAX_NAME = 64
#: An expiry (``gtd_time``) past this (the year 3000) is a typo, not a date.
MAX_EPOCH = 32_503_680_000
MAX_TEXT = 200

_PRICE_LABELS = {
    "price": "price",
    "take_profit": "take-profit",
    "stop_loss": "stop-loss",
    "trailing_stop_distance": "trailing stop distance",
    "level": "level",
}
#: Free-text fields: up to MAX_TEXT characters (other strings are names, up to MAX_NAME).
_TEXT_FIELDS = frozenset({"reason", "note"})


def command_problem(command: Command) -> tuple[Reason, str] | None:
    """Why ``command`` is out of range whatever the engine's state, or None.

    Every face checks this at its edge (the control API before decoding further, the engine
    before anything is journaled), so no value can fail a journal commit or an arithmetic
    context later: sizes are whole numbers within ``MAX_UNITS``, prices and distances are
    positive, finite and sane, names and text are short and printable. The kill switch is
    never refused (its reason is cleaned with ``printable_text`` instead): a halt must not
    depend on what an alerting script wrote.
    """
    if isinstance(command, EngageKillSwitch):
        return None
    for name in command.__dataclass_fields__:
        value = getattr(command, name)
        if value is None or isinstance(value, Enum):
            continue
        if name == "gtd_time":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return Reason.INVALID_EXPIRY, f"gtd_time must be epoch seconds, got {value!r:.40}"
            if not 0 < value < MAX_EPOCH:
                return Reason.INVALID_EXPIRY, "gtd_time is not a plausible time"
        elif name == "units":
            if isinstance(value, bool) or not isinstance(value, int):
                return Reason.INVALID_UNITS, f"units must be a whole number, got {value!r:.40}"
            if abs(value) > MAX_UNITS:
                return Reason.INVALID_UNITS, f"units must be at most {MAX_UNITS:,} in size"
        elif name in _PRICE_LABELS:
            label = _PRICE_LABELS[name]
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                return Reason.INVALID_PRICE, f"{label} must be a positive number"
            if value >= MAX_PRICE:
                return Reason.INVALID_PRICE, f"{label} must be below {MAX_PRICE:,}"
            exponent = value.as_tuple().exponent
            if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
                return Reason.INVALID_PRICE, f"{label} has more than {MAX_DECIMALS} decimals"
        elif isinstance(value, str):
            limit = MAX_TEXT if name in _TEXT_FIELDS else MAX_NAME
            if len(value) > limit:
                return Reason.INVALID_COMMAND, f"{name} is longer than {limit} characters"
            if not value.isprintable():
                return Reason.INVALID_COMMAND, f"{name} holds control characters"
    return None


def printable_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` with control characters turned into spaces, cut to ``limit`` characters."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in str(text)[: limit * 4])
    return cleaned[:limit]


def command_to_wire(command: Command) -> dict[str, Any]:
    """Plain JSON-able form: ``{"command": "SubmitOrder", ...fields}`` (the one wire codec)."""
    return {"command": type(command).__name__, **to_wire(command)}


def command_from_wire(data: dict[str, Any]) -> Command:
    """Rebuild a command from its wire form; raises ValueError naming what is wrong."""
    fields = dict(data)
    name = fields.pop("command", None)
    cls = COMMAND_TYPES.get(str(name))
    if cls is None:
        raise ValueError(f"unknown command {name!r}")
    unknown = set(fields) - set(cls.__dataclass_fields__)
    if unknown:
        raise ValueError(f"bad fields for {name}: unknown {', '.join(sorted(unknown))}")
    try:
        return from_wire(cls, {k: v for k, v in fields.items() if v is not None})
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad fields for {name}: {exc}") from None
