"""How the engine reacts to the world: venue events (acks, fills, cancels), quotes, the clock
(the 17:00 New York rollover) and the automatic limits; plus the plumbing every decision uses.

Like the command side in ``core``, nothing here does I/O or reads a wall clock directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from tmt_tui.config import Settings
from tmt_tui.domain.calendar import trading_day
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderStatus, OrderType
from tmt_tui.domain.positions import TradingState
from tmt_tui.domain.quotes import Quote, quote_problem
from tmt_tui.engine.portfolio import money
from tmt_tui.engine.risk import reduces
from tmt_tui.engine.state import EngineState
from tmt_tui.venues.base import (
    VenueAccepted,
    VenueCancelled,
    VenueEvent,
    VenueFilled,
    VenueModified,
    VenueProtectiveCreated,
    VenueRejected,
)

log = logging.getLogger(__name__)

# A broker request: ("submit", order) | ("cancel", order) | ("modify", order, price, units)
Request = tuple[Any, ...]


class Reactions(EngineState):
    """Turns venue events, quotes and the passing of time into events and broker requests."""

    def __init__(
        self,
        settings: Settings,
        instruments: Iterable[Instrument],
        clock: Callable[[], float],
    ) -> None:
        super().__init__(settings, instruments)
        self.clock = clock
        self.pending: list[Event] = []
        self.outbox: list[Request] = []
        self.halt_pending = False  # set from any thread the moment a kill switch is asked for
        self.bad_quotes = 0
        self.marked_books: set[tuple[str, str]] = set()  # re-marked by quotes since last publish
        self._bad_burst: dict[str, int] = {}

    # plumbing -------------------------------------------------------------------------------

    def emit(
        self, kind: EventKind, origin: str, data: dict[str, Any], carry: Order | None = None
    ) -> Event:
        event = Event(self.seq + 1, self.clock(), kind, origin, data)
        self.carry = carry
        try:
            self.evolve(event)
        finally:
            self.carry = None
        self.pending.append(event)
        self.recent_events.append(event)
        return event

    def take_pending(self) -> list[Event]:
        pending, self.pending = self.pending, []
        return pending

    def take_outbox(self) -> list[Request]:
        outbox, self.outbox = self.outbox, []
        return outbox

    def _cancel_exposure(self, account: str | None, keep_protective: bool) -> int:
        count = 0
        for order in self.orders.for_account(account):
            if order.is_protective and keep_protective:
                continue
            if order.reduce_only and order.type is OrderType.MARKET:
                continue  # a close on its way out
            self.outbox.append(("cancel", order))
            count += 1
        return count

    def _set_state(self, account: str, state: TradingState, reason: str, origin: str) -> None:
        self.emit(
            EventKind.TRADING_STATE_CHANGED,
            origin,
            {"account": account, "state": state.value, "reason": reason},
        )

    # venue events ---------------------------------------------------------------------------

    def on_venue_event(self, ve: VenueEvent) -> None:
        if isinstance(ve, VenueProtectiveCreated):
            self.emit(EventKind.PROTECTIVE_ORDER_CREATED, "venue", {"order": ve.order.to_wire()})
            return
        order = self.orders.get(ve.order_id)
        if order is None:
            log.warning("venue event for unknown order %s: %r", ve.order_id, ve)
            return
        if isinstance(ve, VenueFilled):
            self._filled(order, ve)
        elif isinstance(ve, VenueAccepted):
            self.emit(
                EventKind.ORDER_ACCEPTED, "venue", {"order_id": order.id, "venue_id": ve.venue_id}
            )
            acct = self.portfolio.accounts[order.account]
            if acct.state is TradingState.HALTED and not (
                order.is_protective
                or reduces(order.units, self.portfolio.units(order.account, order.instrument))
            ):
                self.outbox.append(("cancel", self.orders.open[order.id]))
        elif isinstance(ve, VenueCancelled):
            self.emit(
                EventKind.ORDER_CANCELLED, "venue", {"order_id": order.id, "reason": ve.reason}
            )
        elif isinstance(ve, VenueModified):
            self.emit(
                EventKind.ORDER_MODIFIED,
                "venue",
                {
                    "order_id": order.id,
                    "price": None if ve.price is None else str(ve.price),
                    "units": ve.units,
                },
            )
        elif isinstance(ve, VenueRejected):
            if order.status is OrderStatus.SUBMITTED and ve.request == "submit":
                rejected = replace(order, reason=f"{ve.code}: {ve.message}")
                self.emit(
                    EventKind.ORDER_REJECTED,
                    "venue",
                    {
                        "order": replace(rejected, status=OrderStatus.REJECTED).to_wire(),
                        "code": ve.code,
                        "message": ve.message,
                        "source": "broker",
                    },
                )
            else:
                self.emit(
                    EventKind.COMMAND_REJECTED,
                    "venue",
                    {"order_id": order.id, "code": ve.code, "message": ve.message},
                )

    def _filled(self, order: Order, ve: VenueFilled) -> None:
        inst = self.book.instruments[order.instrument]
        currency = self.portfolio.accounts[order.account].currency
        rate = self.book.rate(inst.quote, currency)
        if rate is None:
            log.error("no %s->%s rate for fill %s; booking at 1", inst.quote, currency, ve.fill_id)
            rate = Decimal(1)
        self.emit(
            EventKind.ORDER_FILLED,
            "venue",
            {
                "order_id": order.id,
                "account": order.account,
                "instrument": order.instrument,
                "fill_id": ve.fill_id,
                "units": ve.units,
                "price": str(ve.price),
                "conversion_rate": str(rate),
                "ts": ve.ts,
            },
        )

    # quotes and time ------------------------------------------------------------------------

    def on_quote(self, quote: Quote) -> bool:
        """Take a quote into the book and marks; False (counted) when it is unusable."""
        problem = None
        if quote.instrument not in self.book.instruments:
            problem = "unknown instrument"
        else:
            problem = quote_problem(quote.bid, quote.ask)
        if problem is not None:
            self.bad_quotes += 1
            burst = self._bad_burst.get(quote.instrument, 0)
            self._bad_burst[quote.instrument] = burst + 1
            if burst == 0:  # once per burst: the log and the journal, not every bad tick
                log.warning(
                    "dropped quote for %s: %s (bid=%s ask=%s)",
                    quote.instrument, problem, quote.bid, quote.ask,
                )  # fmt: skip
                self.emit(
                    EventKind.FEED_PROBLEM,
                    "venue",
                    {
                        "instrument": quote.instrument,
                        "problem": problem,
                        "bid": str(quote.bid),
                        "ask": str(quote.ask),
                    },
                )
            return False
        if self._bad_burst:
            self._bad_burst.pop(quote.instrument, None)
        self.book.update(quote)
        self.marked_books |= self.portfolio.on_quote(quote.instrument)
        return True

    def roll_day(self, force: bool = False) -> bool:
        """Start a new trading day when 17:00 New York has passed; True when one began."""
        day = trading_day(self.clock()).isoformat()
        if day == self.trading_day and not force:
            return False
        for acct in self.portfolio.accounts.values():
            self.emit(
                EventKind.DAY_STARTED,
                "auto",
                {"account": acct.id, "trading_day": day, "start_equity": str(money(acct.equity))},
            )
        return True

    def check_limits(self) -> None:
        """The automatic rules: REDUCING at a share of the daily loss limit, HALTED at the limit."""
        for acct in self.portfolio.accounts.values():
            limit = acct.limits.daily_loss_limit
            loss = acct.day_start_equity - acct.equity
            if loss >= limit and not acct.breached:
                self.emit(
                    EventKind.DAILY_LOSS_BREACHED,
                    "auto",
                    {"account": acct.id, "daily_pl": str(money(-loss)), "limit": str(limit)},
                )
                if acct.state is not TradingState.HALTED:
                    self._set_state(
                        acct.id, TradingState.HALTED, "daily loss limit breached", "auto"
                    )
                self._cancel_exposure(acct.id, keep_protective=True)
            elif (
                loss >= limit * acct.limits.reduce_at_loss_fraction
                and acct.state is TradingState.ACTIVE
                and acct.id not in self.auto_reduced
            ):
                share = acct.limits.reduce_at_loss_fraction * 100
                self._set_state(
                    acct.id, TradingState.REDUCING, f"daily loss at {share:.0f}% of limit", "auto"
                )
