"""The UI's view model: the engine's latest state folded from the stream, plus what changed.

Plain dicts keyed the way the engine keys things (order id, `account:instrument`, account id,
instrument name). It holds what the engine sent and nothing it did not: equity, P&L, margin and
trading state are the engine's numbers; the one thing of the UI's own is how its stream is doing.
The main screen reads the dirty parts once a frame (`on_change` tells it there is one to draw);
widgets get what they show from the views at the bottom, so none works a state out for itself.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from tmt_tui.domain.calendar import next_rollover
from tmt_tui.domain.client import Snapshot, StreamItem, Update
from tmt_tui.domain.conversion import conversion_paths, rate_along
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.instruments import Instrument, InstrumentKind
from tmt_tui.domain.market import MarketRead
from tmt_tui.domain.orders import Order
from tmt_tui.domain.positions import AccountState, PortfolioTotals, Position, TradingState
from tmt_tui.domain.price_alerts import PriceAlert, alert_set_by
from tmt_tui.domain.quotes import FeedQuote, Quote
from tmt_tui.domain.replay import ReplayProgress

#: Terminal orders kept for the orders table (the newest); open orders are always kept.
TERMINAL_ORDERS_KEPT = 200
#: Terminal orders shown under the working ones.
TERMINAL_ORDERS_SHOWN = 50
#: Events kept for the log pane.
EVENTS_KEPT = 500
#: The stream status before the first item arrives.
CONNECTING = "connecting…"
DISCONNECTED = "disconnected"
#: The engine's reason for a HALT at the daily loss limit (engine/react.py).
BREACH_REASON = "daily loss limit breached"


@dataclass(slots=True)
class QuoteRow:
    """One instrument on the quote board: its latest quote and how it moved on the last tick."""

    instrument: Instrument
    quote: Quote | None = None
    first_mid: Decimal | None = None
    bid_move: int = 0  # sign of the last bid change
    ask_move: int = 0  # sign of the last ask change
    direction: int = 0  # sign of the last mid change
    changed_at: float = 0.0  # monotonic time of the last change
    compared: FeedQuote | None = None  # another feed's quote beside the trading one
    market: MarketRead | None = None  # the engine's regime, signal and indicators for it
    price_alerts: int = 0  # the trader's active price alerts on it (a marker on the board)


@dataclass(slots=True)
class Dirty:
    """What changed since the frame pump last looked."""

    reset: bool = False  # a snapshot replaced everything
    quotes: set[str] = field(default_factory=set)
    accounts: bool = False
    positions: bool = False
    orders: bool = False
    status: bool = False  # the stream's status changed (live, stale, disconnected)
    watchlist: bool = False  # the watchlist (what the board shows, in which order) changed
    events: list[Event] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.quotes or self.events or self.slow)

    @property
    def slow(self) -> bool:
        """Something the slower panes (header, tables, gauges) show has changed."""
        return (
            self.reset
            or self.accounts
            or self.positions
            or self.orders
            or self.status
            or self.watchlist
        )


@dataclass(frozen=True, slots=True)
class TradingFlags:
    """The trading state every screen shows: the `-halted` / `-reducing` classes and banner text."""

    halted: bool = False
    reducing: bool = False
    banner: str = ""


class ViewModel:
    """The latest state the engine published, keyed for diffing, with a dirty set per frame."""

    def __init__(
        self,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._monotonic = monotonic
        self._wall = wall
        self.seq = 0
        self.snapshots = 0
        self.instruments: dict[str, Instrument] = {}
        self.quotes: dict[str, QuoteRow] = {}
        self.accounts: dict[str, AccountState] = {}
        self.positions: dict[str, Position] = {}
        self.orders: dict[str, Order] = {}
        self.events: deque[Event] = deque(maxlen=EVENTS_KEPT)
        self.trading_day = ""
        self.kill_switch_engaged = False
        self.kill_switch_reason = ""
        self.totals: PortfolioTotals | None = None  # all accounts in the reporting currency
        self.alerts: dict[str, str] = {}  # active alert key -> message, as the engine raised them
        #: The trader's active price alerts by id (not ``alerts``: those are the engine's own).
        self.price_alerts: dict[str, PriceAlert] = {}
        #: The board's instruments in the engine's order; None: an engine without a watchlist
        #: (every instrument is shown). ``universe``: what a search may add.
        self.watchlist: tuple[str, ...] | None = None
        self.universe: tuple[str, ...] = ()
        self.last_item_at = 0.0  # monotonic time the last stream item arrived
        self.stream = CONNECTING  # live, stale: ..., disconnected (the UI's own knowledge)
        self.read_only = False  # a viewer: the engine refuses this screen's orders
        self.replay: ReplayProgress | None = None  # where the engine's replay stands; None: live
        self._first_mid: dict[str, Decimal] = {}  # survives snapshots: "change since first seen"
        self._dirty = Dirty()
        #: Called when the model changes after a `take_dirty` (once until the next one): the
        #: main screen draws a frame when data arrives instead of polling for it on a timer.
        self.on_change: Callable[[], None] | None = None
        self._told = False

    # -- folding the stream -------------------------------------------------------------

    def apply(self, item: StreamItem) -> None:
        """Fold one stream item: a Snapshot replaces everything, an Update upserts by key."""
        self.last_item_at = self._monotonic()
        if isinstance(item, Snapshot):
            self._apply_snapshot(item)
        else:
            self._apply_update(item)
        self._changed()

    def _apply_snapshot(self, snap: Snapshot) -> None:
        self.snapshots += 1
        self.seq = snap.seq
        self.trading_day = snap.trading_day
        self.kill_switch_engaged = snap.kill_switch_engaged
        self.kill_switch_reason = snap.kill_switch_reason
        self.instruments = {i.name: i for i in snap.instruments}
        self.quotes = {name: QuoteRow(inst) for name, inst in self.instruments.items()}
        self.watchlist = snap.watchlist
        self.universe = snap.universe or tuple(self.instruments)
        self.accounts = {a.id: a for a in snap.accounts}
        self.totals = snap.totals
        self.replay = snap.replay
        self.alerts = dict(snap.alerts)
        self.positions = {p.key: p for p in snap.positions if p.units != 0}
        self.orders = {}
        self._upsert_orders(snap.orders)
        self.events.clear()
        self.events.extend(snap.events)
        self._dirty = Dirty(reset=True, events=list(snap.events))
        self._upsert_quotes(snap.quotes)
        self._upsert_compared(snap.compared)
        self._upsert_market(snap.market)
        self.price_alerts = {}
        for alert in snap.price_alerts:
            self._price_alert(alert.id, alert)
        self._dirty.quotes = set(self.quotes)
        self._dirty.accounts = self._dirty.positions = self._dirty.orders = True

    def _apply_update(self, update: Update) -> None:
        self.seq = update.seq
        dirty = self._dirty
        for instrument in update.instruments:  # learned for the watchlist: before its quotes
            self.instruments[instrument.name] = instrument
            self.quotes.setdefault(instrument.name, QuoteRow(instrument))
        if update.watchlist is not None:
            self.watchlist = update.watchlist
            dirty.watchlist = True
        if update.quotes:
            self._upsert_quotes(update.quotes)
        if update.compared:
            self._upsert_compared(update.compared)
        if update.market:
            self._upsert_market(update.market)
        for account in update.accounts:  # republished each marks interval, mostly unchanged
            if self.accounts.get(account.id) != account:
                self.accounts[account.id] = account
                dirty.accounts = True
        if update.replay is not None:
            self.replay = update.replay
            dirty.status = True  # the header shows it beside the stream's status
        if update.totals is not None and update.totals != self.totals:
            self.totals = update.totals
            dirty.accounts = True
        if update.positions:
            for position in update.positions:
                if position.units == 0:
                    self.positions.pop(position.key, None)
                else:
                    self.positions[position.key] = position
            dirty.positions = True
        if update.orders:
            self._upsert_orders(update.orders)
            dirty.orders = True
        if update.events:
            for event in update.events:
                self._note_event(event)
            self.events.extend(update.events)
            dirty.events.extend(update.events)

    def _note_event(self, event: Event) -> None:
        if event.kind is EventKind.KILL_SWITCH_ENGAGED:
            self.kill_switch_engaged = True
            self.kill_switch_reason = str(event.data.get("reason", ""))
        elif event.kind is EventKind.KILL_SWITCH_RESET:
            self.kill_switch_engaged = False
            self.kill_switch_reason = ""
        elif event.kind is EventKind.ALERT_RAISED:
            self.alerts[str(event.data.get("key"))] = str(event.data.get("message", ""))
            self._dirty.accounts = True
        elif event.kind is EventKind.ALERT_CLEARED:
            self.alerts.pop(str(event.data.get("key")), None)
            self._dirty.accounts = True
        elif event.kind is EventKind.PRICE_ALERT_SET:
            self._price_alert(str(event.data["id"]), alert_set_by(event))
        elif event.kind in (EventKind.PRICE_ALERT_CANCELLED, EventKind.PRICE_ALERT_HIT):
            self._price_alert(str(event.data["id"]), None)

    def _price_alert(self, alert_id: str, alert: PriceAlert | None) -> None:
        """An alert set (``alert``) or ended (None); its row's marker follows."""
        gone = self.price_alerts.pop(alert_id, None)
        if alert is not None:
            self.price_alerts[alert_id] = alert
        changed = alert or gone
        row = self.quotes.get(changed.instrument) if changed is not None else None
        if row is not None:
            row.price_alerts = sum(
                a.instrument == row.instrument.name for a in self.price_alerts.values()
            )
            self._dirty.quotes.add(row.instrument.name)

    def _upsert_quotes(self, quotes: Iterable[Quote]) -> None:
        now = self._monotonic()
        for quote in quotes:
            row = self.quotes.get(quote.instrument)
            if row is None:
                continue  # not an instrument of this snapshot
            previous = row.quote
            first = self._first_mid.setdefault(quote.instrument, quote.mid)
            row.first_mid = first
            if previous is not None:
                row.bid_move = _sign(quote.bid - previous.bid)
                row.ask_move = _sign(quote.ask - previous.ask)
                row.direction = _sign(quote.mid - previous.mid) or row.direction
            row.quote = quote
            row.changed_at = now
            self._dirty.quotes.add(quote.instrument)

    def _upsert_compared(self, compared: Iterable[FeedQuote]) -> None:
        """Other feeds' quotes: the row keeps the one furthest from the trading price."""
        for other in compared:
            row = self.quotes.get(other.quote.instrument)
            if row is None:
                continue
            shown = row.compared
            if (
                shown is None
                or shown.feed == other.feed
                or abs(other.gap_pips) >= abs(shown.gap_pips)
            ):
                row.compared = other
                self._dirty.quotes.add(other.quote.instrument)

    def _upsert_market(self, reads: Iterable[MarketRead]) -> None:
        """The engine's market state per instrument (regime, signal): the latest replaces."""
        for read in reads:
            row = self.quotes.get(read.instrument)
            if row is not None and row.market != read:
                row.market = read
                self._dirty.quotes.add(read.instrument)

    def _upsert_orders(self, orders: Iterable[Order]) -> None:
        for order in orders:
            self.orders[order.id] = order
        terminal = [o for o in self.orders.values() if o.status.is_terminal]
        if len(terminal) > TERMINAL_ORDERS_KEPT:
            terminal.sort(key=lambda o: (o.updated_ts, o.created_ts))
            for order in terminal[: len(terminal) - TERMINAL_ORDERS_KEPT]:
                del self.orders[order.id]

    def set_stream(self, status: str) -> None:
        """The stream's status as the header shows it (live, stale: ..., disconnected)."""
        if status != self.stream:
            self.stream = status
            self._dirty.status = True
            self._changed()

    def note_silence(self, stale_after: float) -> None:
        """Call now and then: a live stream quiet for `stale_after` seconds is shown as stale;
        a lost one's age moves on (the header says how old the figures are)."""
        if self.stream == DISCONNECTED:
            self._dirty.status = True
            self._changed()
            return
        if self.stream != "live" and not self.stream.startswith("stale"):
            return
        age = self._monotonic() - self.last_item_at
        if age > stale_after:
            self.set_stream(f"stale: nothing from the engine for {age:.0f}s")

    def take_dirty(self) -> Dirty:
        """What changed since the last call; the model starts a fresh dirty set."""
        dirty, self._dirty = self._dirty, Dirty()
        self._told = False
        return dirty

    def _changed(self) -> None:
        """Tell `on_change`, once per dirty set: a burst of stream items asks for one frame, and
        an item that changed nothing (marks republished as they were) asks for none."""
        if not self._told and self.on_change is not None and self._dirty:
            self._told = True
            self.on_change()

    # -- views the widgets render --------------------------------------------------------

    def orders_for_display(self) -> list[Order]:
        """Live orders (oldest first), then the newest terminal ones (newest first)."""
        open_orders = sorted(
            (o for o in self.orders.values() if not o.status.is_terminal),
            key=lambda o: (o.created_ts, o.id),
        )
        terminal = sorted(
            (o for o in self.orders.values() if o.status.is_terminal),
            key=lambda o: (o.updated_ts, o.created_ts, o.id),
            reverse=True,
        )
        return open_orders + terminal[:TERMINAL_ORDERS_SHOWN]

    def working_orders(self) -> list[Order]:
        """Orders that can still fill (SUBMITTED, WORKING, PARTIALLY_FILLED)."""
        return [o for o in self.orders.values() if o.status.is_open]

    def states(self) -> set[TradingState]:
        return {a.trading_state for a in self.accounts.values()}

    @property
    def halted(self) -> bool:
        return TradingState.HALTED in self.states()

    @property
    def reducing(self) -> bool:
        return TradingState.REDUCING in self.states()

    def state_reason(self, state: TradingState) -> str:
        """The reason the engine gave for `state`, from the first account in it."""
        reasons = [a.state_reason for a in self.accounts.values() if a.trading_state is state]
        reason = next((r for r in reasons if r), "")
        if not reason and state is TradingState.HALTED:
            reason = self.kill_switch_reason
        return reason

    @property
    def trading_state(self) -> TradingState | None:
        """The state that binds the trader: HALTED if any account is, else REDUCING, else
        ACTIVE; None before the engine named any account."""
        states = self.states()
        for state in (TradingState.HALTED, TradingState.REDUCING, TradingState.ACTIVE):
            if state in states:
                return state
        return None

    def trading_flags(self) -> TradingFlags:
        """The banner every screen shows while any account is HALTED or REDUCING, and why."""
        halted = self.halted
        reducing = self.reducing and not halted
        if halted:
            reason = self.state_reason(TradingState.HALTED)
            breached = [
                a.id
                for a in self.accounts.values()
                if a.trading_state is TradingState.HALTED and a.daily_loss_breached
            ]
            if breached:  # ctrl+r would be refused: say why, and until when
                rollover = datetime.fromtimestamp(next_rollover(self._wall()), UTC)
                other = f"{reason}; " if reason and reason != BREACH_REASON else ""
                text = (
                    f"HALTED — {other}daily loss limit breached on {', '.join(breached)}: "
                    "closing and cancelling allowed; reset after 17:00 New York "
                    f"({rollover:%H:%M} UTC)"
                )
            else:
                text = f"HALTED — {reason}" if reason else "HALTED"
                text += " — closing and cancelling still allowed; ctrl+r resets"
        elif reducing:
            reason = self.state_reason(TradingState.REDUCING)
            text = f"REDUCING — only risk-reducing orders{': ' + reason if reason else ''}"
        else:
            text = ""
        return TradingFlags(halted, reducing, text)

    def status_text(self) -> str:
        """The connection to the engine, and the engine's to its venue when that is not well;
        when the engine is gone, how old the figures on screen are."""
        if self.stream == "live" and "venue.reconciling" in self.alerts:
            return "live · reconciling with venue"
        if self.stream == "live" and "venue.stream" in self.alerts:
            return "live · venue stream down"
        if self.stream == "live" and "sync.down" in self.alerts:
            return "live · sync down"
        if self.stream == "live" and "sync.lagging" in self.alerts:
            return "live · sync lagging"
        if self.stream == DISCONNECTED and self.last_item_at:
            age = self._monotonic() - self.last_item_at
            return f"{DISCONNECTED} · figures {_age(age)} old · retrying"
        return self.stream

    @property
    def engine_lost(self) -> str:
        """Why every figure on screen is old: "DISCONNECTED" (the engine stopped) or "STALE" (it
        went silent); "" while the stream is live."""
        if self.stream == DISCONNECTED:
            return "DISCONNECTED"
        return "STALE" if self.stream.startswith("stale") else ""

    def order_instrument(self, order_id: str) -> str:
        order = self.orders.get(order_id)
        return order.instrument if order else ""

    def rate(self, from_ccy: str, to_ccy: str) -> Decimal | None:
        """Units of ``to_ccy`` per unit of ``from_ccy`` at the mids the engine sent (the
        engine's own conversion rule, `domain/conversion.py`), or None without prices."""
        pairs = [name for name, i in self.instruments.items() if i.kind is InstrumentKind.FX]
        return rate_along(conversion_paths(pairs, from_ccy, to_ccy), self._mid)

    def _mid(self, instrument: str) -> Decimal | None:
        row = self.quotes.get(instrument)
        quote = row.quote if row else None
        return None if quote is None else (quote.bid + quote.ask) / 2


def _age(seconds: float) -> str:
    """``42s``, ``5m 03s``, ``2h 10m``: how old, at a glance."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


@dataclass(slots=True)
class QuerySchedule:
    """When a pane that asks the engine (history, analytics) should ask again.

    Never while the pane is hidden; at once when `stale` (first shown, a fill, a new filter);
    else every `interval` seconds; one question in flight at a time.
    """

    interval: float
    last: float = float("-inf")
    stale: bool = True
    in_flight: bool = False

    def due(self, now: float, visible: bool) -> bool:
        if self.in_flight or not visible:
            return False
        return self.stale or now - self.last >= self.interval

    def asked(self, now: float) -> None:
        self.last, self.stale, self.in_flight = now, False, True

    def answered(self) -> None:
        self.in_flight = False
