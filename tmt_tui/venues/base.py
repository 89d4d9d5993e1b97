"""The two small protocols every venue implements, and the events a broker reports.

A broker takes requests synchronously (it may queue them for I/O) and reports outcomes through
one sink callback that the engine runner gives it. The sim broker calls the sink at once; a
network broker calls it when the venue answers. The engine never waits on a venue.

``txn`` on an event is the venue transaction it was read from (OANDA's transaction stream), or
empty when it came from a request's own answer; ``seen`` then lists the transactions that answer
showed. The engine journals both and resumes the venue's transaction history after the highest
``txn`` it holds, skipping what it has ``seen``, so that every transaction is booked exactly once
across restarts (an order placed outside tmt is adopted once, a trade close filled once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.market import Bar
from tmt_tui.domain.orders import Order
from tmt_tui.domain.positions import Trade
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.replay import ReplayProgress


class VenueRefused(Exception):
    """The venue cannot be traded as configured; the message says what to change."""


@dataclass(frozen=True, slots=True)
class VenueAccepted:
    order_id: str
    venue_id: str
    txn: str = ""
    seen: tuple[str, ...] = ()  # the venue transactions a request's answer showed


@dataclass(frozen=True, slots=True)
class VenueRejected:
    order_id: str
    code: str
    message: str
    request: str = "submit"  # "submit" | "cancel" | "modify": only a submit reject kills an order


@dataclass(frozen=True, slots=True)
class TradeClose:
    """What one fill took from one open trade, as the venue booked it: ``units`` signed like
    the fill, ``realized`` in the account currency (the venue's own conversion)."""

    trade_id: str
    units: int
    realized: Decimal


@dataclass(frozen=True, slots=True)
class VenueFilled:
    """``fill_id`` doubles as the id of the trade the fill opens (OANDA's convention).

    A venue that books P&L itself (OANDA) says which trades the fill closed and what each
    realized (``closes``) and the financing it paid (``financing``), both in the account
    currency: the engine books exactly those, so its realized P&L and balance are the venue's.
    Without ``closes`` (the paper broker) the engine nets FIFO and converts at its own rate.
    """

    order_id: str
    fill_id: str
    units: int
    price: Decimal
    ts: float
    txn: str = ""
    seen: tuple[str, ...] = ()
    closes: tuple[TradeClose, ...] | None = None
    financing: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class VenueCancelled:
    order_id: str
    reason: str
    txn: str = ""
    seen: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VenueModified:
    """The order now rests at ``price`` for ``units`` (OANDA replaces it: a new ``venue_id``)."""

    order_id: str
    price: Decimal | None
    units: int
    venue_id: str | None = None
    txn: str = ""
    seen: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VenueProtectiveCreated:
    """A take-profit or stop-loss the venue attached to a trade after a fill."""

    order: Order
    txn: str = ""


@dataclass(frozen=True, slots=True)
class VenueOrderAdopted:
    """An order at the venue that tmt did not place (the OANDA web UI, another program): the
    engine takes it into its book so that its fills land somewhere."""

    order: Order
    txn: str = ""


@dataclass(frozen=True, slots=True)
class VenueBalance:
    """The venue's account balance after a transaction (fills, financing, transfers)."""

    account: str
    balance: Decimal
    reason: str
    txn: str = ""


VenueEvent = (
    VenueAccepted
    | VenueRejected
    | VenueFilled
    | VenueCancelled
    | VenueModified
    | VenueProtectiveCreated
    | VenueOrderAdopted
    | VenueBalance
)
VenueSink = Callable[[VenueEvent], None]
QuoteSink = Callable[[Quote], None]
StatusHook = Callable[[str, bool, str], None]  # (alert key, active, message)
ComparedSink = Callable[[str, Quote], None]  # (feed name, its quote)


@dataclass(frozen=True, slots=True)
class VenueAccount:
    id: str
    currency: str
    balance: Decimal
    hedging: bool = False
    alias: str = ""


@dataclass(frozen=True, slots=True)
class VenueSnapshot:
    """What the venue holds right now: the truth reconciliation compares the engine with."""

    account: VenueAccount
    orders: tuple[Order, ...]  # working orders, ids already translated to the engine's
    trades: tuple[Trade, ...]  # open lots with their take-profit / stop-loss order ids
    last_txn: str


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    """Send a new order to the broker."""

    order: Order


@dataclass(frozen=True, slots=True)
class ModifyRequest:
    """Change a working order's price and / or size (OANDA replaces it under a new id)."""

    order: Order
    price: Decimal | None
    units: int


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Cancel a working order."""

    order: Order


BrokerRequest = SubmitRequest | ModifyRequest | CancelRequest


def send(broker: Broker, request: BrokerRequest) -> None:
    """Hand one typed request to the broker (the one place that knows the verbs)."""
    if isinstance(request, SubmitRequest):
        broker.submit(request.order)
    elif isinstance(request, CancelRequest):
        broker.cancel(request.order)
    else:
        broker.modify(request.order, request.price, request.units)


class Broker(Protocol):
    """Executes orders; every outcome arrives later (or at once) through the sink."""

    def connect(self, sink: VenueSink) -> None: ...

    def restore(self, open_orders: Iterable[Order], trades: Iterable[Trade]) -> None:
        """Take the engine's recovered orders and trades as the venue's starting book."""
        ...

    def submit(self, order: Order) -> None: ...

    def modify(self, order: Order, price: Decimal | None, units: int) -> None: ...

    def cancel(self, order: Order) -> None: ...

    def on_quote(self, quote: Quote) -> None:
        """Prices move: a paper broker triggers resting orders here; a real one ignores it."""
        ...


class MarketDataFeed(Protocol):
    """Pushes quotes for its instruments into a sink until stopped."""

    def instruments(self) -> tuple[Instrument, ...]: ...

    async def run(self, sink: QuoteSink) -> None: ...

    def stop(self) -> None: ...

    def report_status_to(self, status: StatusHook) -> None:
        """Where to say the feed is down, live again, or refused (alert key, active, message):
        the engine raises and clears alerts from it. A feed with nothing to say ignores it."""
        ...


@runtime_checkable
class ComparingFeed(Protocol):
    """A feed that also hears other feeds for the instruments it prices: their quotes are not
    traded at, only shown beside the trading price and compared with it."""

    def compare_into(self, sink: ComparedSink) -> None: ...


@runtime_checkable
class SubscribingFeed(Protocol):
    """A feed whose instruments can change while it runs (the watchlist adds and drops them).

    ``universe`` is every instrument it could quote, with its spec (what a search offers);
    ``instruments`` is what it quotes now. ``subscribe`` is called on the engine loop and returns
    at once: the feed changes its subscription in its own time (OANDA reconnects its stream with
    the new set, Polygon sends ``subscribe`` / ``unsubscribe``), quotes of what stays
    subscribed keep coming, and a new instrument's first quote arrives as soon as the venue
    sends it. A feed without this capability quotes what it opened with."""

    def universe(self) -> tuple[Instrument, ...]: ...

    def subscribe(self, names: Iterable[str]) -> None:
        """Quote exactly ``names`` (all of them in ``universe``) from now on."""
        ...


class HistoryUnavailable(Exception):
    """A feed could not give its history; the message says why, for a log line (no secrets)."""


@runtime_checkable
class HistoryFeed(Protocol):
    """A feed that can also say what its market did before tmt listened: an optional
    capability (OANDA's candles, Polygon's aggregates, the sim's own model) that the engine
    uses, when a feed has it, to fill the bars a chart shows at first start."""

    async def history(self, instrument: str, size: str, count: int) -> list[Bar]:
        """The newest ``count`` complete bars of ``instrument`` at ``size`` (S5, M1, M5, M15,
        H1), oldest first; fewer (or none) when the venue has fewer. Raises
        HistoryUnavailable saying why it could not."""
        ...


@runtime_checkable
class Playback(Protocol):
    """A feed that plays recorded quotes (the replay venue) rather than hearing a market: the
    engine then runs on the ticks' clock, takes each tick's consequences before the next one
    (so any speed gives the same fills), and lets a user pause, resume and change speed."""

    def progress(self) -> ReplayProgress: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def set_speed(self, speed: float) -> None:
        """A multiple of real time, or ``MAX_SPEED`` (checked by ``domain.replay``)."""
        ...


# (account, instrument, units, price) -> why the account cannot carry it, or None
MarginProbe = Callable[[str, str, int, Decimal], str | None]
ReconcileHook = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class VenueOpening:
    """What the engine tells a venue as it opens it: which journal it writes (client ids must
    never repeat across journals), the last prices that journal saw (a simulated market starts
    from them), and whom to tell about reconnects (monitoring)."""

    journal_id: str
    last_quotes: tuple[Quote, ...] = ()
    on_reconnect: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class VenueOpened:
    """What a venue trades: its instruments, and its accounts when the venue says what they
    are (OANDA: id, currency and balance); ``None`` means the config's accounts."""

    instruments: tuple[Instrument, ...]
    accounts: tuple[VenueAccount, ...] | None = None


class Venue(Protocol):
    """A place that quotes and trades, as the engine sees it: built from config by
    ``venues.factory``, opened once, then its feed and broker used until ``aclose``.

    A venue with a history of its own (``reconciles``) also has an event stream to ``follow``
    and a ``snapshot`` to reconcile against; the engine hands it the cursor it journaled so that
    every venue transaction is booked once across restarts.
    """

    name: str  # for people: "sim", "OANDA"
    reconciles: bool

    async def open(self, opening: VenueOpening) -> VenueOpened:
        """Connect and check; raises VenueRefused (or ConfigError) saying what to change."""
        ...

    @property
    def feed(self) -> MarketDataFeed: ...

    @property
    def broker(self) -> Broker: ...

    def resume(
        self, cursor: int, seen: Iterable[str], margin_probe: MarginProbe, *, fresh: bool
    ) -> None:
        """Continue after the venue transaction ``cursor`` (skipping ``seen``); ``fresh``: the
        journal is new, so the venue's older history is not ours (start at its present). The
        broker may ask ``margin_probe`` whether an account can carry a fill."""
        ...

    def hold_answers(self, quiet: bool) -> None:
        """While reconciling, request answers stay quiet: the history read says it all."""
        ...

    async def follow(self, sink: VenueSink, reconcile: ReconcileHook, status: StatusHook) -> None:
        """Apply the venue's own event stream (reconciling on every (re)connect) until closed."""
        ...

    async def snapshot(self, open_orders: Iterable[Order], sink: VenueSink) -> VenueSnapshot:
        """The venue's book now; the events that bring the engine up to it go to ``sink``."""
        ...

    async def aclose(self) -> None: ...
