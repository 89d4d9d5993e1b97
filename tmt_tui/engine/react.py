"""Reactions: how the engine answers the world. Venue events (acks, fills, cancels), quotes,
the clock (the 17:00 New York rollover) and the automatic limits in; events and broker requests
out through the recorder. Like ``decide``, nothing here does I/O or reads a wall clock.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tmt_tui.domain.calendar import trading_day
from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import CancelWhy, Order, OrderStatus
from tmt_tui.domain.positions import TradingState
from tmt_tui.domain.quotes import Quote, quote_problem
from tmt_tui.engine.batch import Flags
from tmt_tui.engine.portfolio import round_money
from tmt_tui.engine.recorder import Recorder, Stage
from tmt_tui.engine.risk import reduces
from tmt_tui.venues.base import (
    VenueAccepted,
    VenueBalance,
    VenueCancelled,
    VenueEvent,
    VenueFilled,
    VenueModified,
    VenueOrderAdopted,
    VenueProtectiveCreated,
    VenueRejected,
)

log = logging.getLogger(__name__)

NO_RATE_ALERT = "fill.no_rate"


def _txn(data: dict[str, Any], txn: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """``data`` stamped with the venue transaction it came from (or those its answer showed)."""
    if txn:
        data["txn"] = txn
    if seen:
        data["seen"] = list(seen)
    return data


class Reactions(Stage):
    """Turns venue events, quotes and the passing of time into events and broker requests."""

    def __init__(self, rec: Recorder, flags: Flags) -> None:
        super().__init__(rec, flags)
        self.bad_quotes = 0
        self.held: deque[VenueEvent] = deque()  # venue events waiting for a conversion rate
        self.marked_books: set[tuple[str, str]] = set()  # re-marked by quotes since last publish
        self._bad_burst: dict[str, int] = {}
        #: Accounts that breached their daily loss limit with daily_loss_action = "flatten":
        #: the decisions close their positions (core.check_limits).
        self.to_flatten: list[str] = []
        #: Per instrument, the nearest price alert levels (engine.price_alerts): the tick's test.
        self._alert_trip = rec.state.price_alerts.trip
        #: Called when a quote hit a price alert: the runner commits (and so tells) it at once
        #: instead of at the next marks timer.
        self.on_price_alert_hit: Callable[[], None] | None = None

    # venue events ---------------------------------------------------------------------------

    def on_venue_event(self, ve: VenueEvent) -> None:
        """Apply what the venue reports. Repeats are harmless: a venue's history may be read
        twice (a request's answer and then its transaction stream, or a backfill after a
        restart), so an event about a finished or unknown order changes nothing.

        A fill that needs a conversion rate nobody has quoted yet is held, never booked at an
        invented one; what the venue reports after it waits behind it, in order, until a quote
        makes the rate (``release_held``), and the ``fill.no_rate`` alert says so meanwhile.
        """
        if self.held or not self._apply_venue(ve):
            if not self.held:
                self._hold_alert(ve)
            self.held.append(ve)

    def release_held(self) -> None:
        """Book the held venue events, in order, as far as rates now allow."""
        held = self.held
        while held:
            if not self._apply_venue(held[0]):
                return
            held.popleft()
        self.rec.emit(
            EventKind.ALERT_CLEARED, "auto", {"key": NO_RATE_ALERT, "message": "rates back"}
        )
        log.warning("held venue events booked: conversion rates are back")

    def _hold_alert(self, ve: VenueEvent) -> None:
        fill = ve if isinstance(ve, VenueFilled) else None
        message = (
            f"fill {fill.fill_id if fill else ''} held: no conversion rate into the account "
            "currency yet; it is booked when one is quoted"
        )
        log.warning("%s", message)
        self.rec.emit(EventKind.ALERT_RAISED, "auto", {"key": NO_RATE_ALERT, "message": message})

    def _apply_venue(self, ve: VenueEvent) -> bool:
        """Apply one venue event; False (nothing changed) when a fill needs an unquoted rate."""
        if isinstance(ve, VenueProtectiveCreated | VenueOrderAdopted):
            self._adopt(ve)
            return True
        if isinstance(ve, VenueBalance):
            self._balance(ve)
            return True
        order = self.state.orders.get(ve.order_id)
        if order is None:
            log.debug("venue event for an order that is not open: %r", ve)
            return True
        if isinstance(ve, VenueFilled):
            return self._filled(order, ve)
        elif isinstance(ve, VenueAccepted):
            if order.status is not OrderStatus.SUBMITTED:
                return True
            self.rec.emit(
                EventKind.ORDER_ACCEPTED,
                "venue",
                _txn({"order_id": order.id, "venue_id": ve.venue_id}, ve.txn, ve.seen),
            )
            acct = self.state.portfolio.accounts[order.account]
            if acct.state is TradingState.HALTED and not (
                order.is_protective
                or reduces(order.units, self.state.portfolio.units(order.account, order.instrument))
            ):
                self.rec.cancel(self.state.orders.open[order.id], CancelWhy.HALTED, "auto")
        elif isinstance(ve, VenueCancelled):
            self.rec.emit(
                EventKind.ORDER_CANCELLED,
                "venue",
                _txn(self.state.cancel_data(order.id, ve.reason), ve.txn, ve.seen),
            )
        elif isinstance(ve, VenueModified):
            data: dict[str, Any] = {
                "order_id": order.id,
                "price": None if ve.price is None else str(ve.price),
                "units": ve.units or order.units,  # 0: the venue did not say (a trade's TP/SL)
            }
            if ve.venue_id is not None:
                data["venue_id"] = ve.venue_id
            self.rec.emit(EventKind.ORDER_MODIFIED, "venue", _txn(data, ve.txn, ve.seen))
        elif isinstance(ve, VenueRejected):
            if order.status is OrderStatus.SUBMITTED and ve.request == "submit":
                rejected = replace(order, reason=f"{ve.code}: {ve.message}")
                self.rec.emit(
                    EventKind.ORDER_REJECTED,
                    "venue",
                    {
                        "order": to_wire(replace(rejected, status=OrderStatus.REJECTED)),
                        "code": ve.code,
                        "message": ve.message,
                        "source": "broker",
                    },
                )
            else:
                self.rec.emit(
                    EventKind.COMMAND_REJECTED,
                    "venue",
                    {"order_id": order.id, "code": ve.code, "message": ve.message},
                )
        return True

    def _adopt(self, ve: VenueProtectiveCreated | VenueOrderAdopted) -> None:
        order = ve.order
        if order.id in self.state.orders.open:
            return  # read twice
        if order.instrument and order.instrument not in self.state.quotes.instruments:
            log.warning(
                "venue order %s on %s, which this engine does not stream: not adopted "
                "(add it to the instruments to follow it)", order.id, order.instrument,
            )  # fmt: skip
            return
        if order.is_protective:
            if not order.instrument:
                order = replace(order, instrument=self._instrument_of(order))
            trade = self.state.portfolio.find_trade(
                order.account, order.instrument, order.trade_id or ""
            )
            if trade is None:
                log.debug("protective order %s for a trade that is not open", order.id)
                return
            if order.units == 0:  # the venue names the trade, not the size
                order = replace(order, units=-trade.units)
        kind = (
            EventKind.PROTECTIVE_ORDER_CREATED
            if isinstance(ve, VenueProtectiveCreated)
            else EventKind.ORDER_ADOPTED
        )
        self.rec.emit(kind, "venue", _txn({"order": to_wire(order)}, ve.txn))

    def _instrument_of(self, order: Order) -> str:
        """The instrument of the trade a protective order names (venues may name only the trade)."""
        for (account, instrument), book in self.state.portfolio.books.items():
            if account == order.account and any(t.id == order.trade_id for t in book.trades):
                return instrument
        return ""

    def _balance(self, ve: VenueBalance) -> None:
        acct = self.state.portfolio.accounts.get(ve.account)
        if acct is None or acct.balance == ve.balance:
            return
        self.rec.emit(
            EventKind.ACCOUNT_SYNCED,
            "venue",
            _txn(
                {
                    "account": acct.id,
                    "balance": str(ve.balance),
                    "was": str(acct.balance),
                    "reason": ve.reason,
                },
                ve.txn,
            ),
        )

    def _filled(self, order: Order, ve: VenueFilled) -> bool:
        inst = self.state.quotes.instruments.get(order.instrument)
        if inst is None:
            log.error(
                "fill %s on %s, which this engine does not hold", ve.fill_id, order.instrument
            )
            return True
        currency = self.state.portfolio.accounts[order.account].currency
        rate = self.state.quotes.rate(inst.quote, currency)
        data: dict[str, Any] = {
            "order_id": order.id,
            "account": order.account,
            "instrument": order.instrument,
            "fill_id": ve.fill_id,
            "units": ve.units,
            "price": str(ve.price),
            "conversion_rate": None if rate is None else str(rate),
            "ts": ve.ts,
        }
        if ve.closes is not None:  # the venue booked the P&L: take its figures
            data["closes"] = [[c.trade_id, c.units, str(c.realized)] for c in ve.closes]
            if ve.financing:
                data["financing"] = str(ve.financing)
        elif rate is None:
            position = self.state.portfolio.units(order.account, order.instrument)
            if position and (position > 0) != (ve.units > 0):
                return False  # it closes P&L we cannot convert yet: hold it
        self.rec.emit(EventKind.ORDER_FILLED, "venue", _txn(data, ve.txn, ve.seen))
        return True

    # quotes and time ------------------------------------------------------------------------

    def on_quote(self, quote: Quote) -> bool:
        """Take a quote into the book and marks; False (counted) when it is unusable."""
        state = self.state
        problem = None
        if quote.instrument not in state.quotes.instruments:
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
                self.rec.emit(
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
        quotes = state.quotes
        quotes.update(quote)
        name = quote.instrument
        state.portfolio.track_excursions(name, quotes.fbid[name], quotes.fask[name])
        self.marked_books |= state.portfolio.on_quote(name)
        trip = self._alert_trip.get(name)
        if trip is not None and (quotes.fbid[name] >= trip[0] or quotes.fask[name] <= trip[1]):
            self._price_alerts_hit(quote)
        if self.held:
            self.release_held()
        return True

    def _price_alerts_hit(self, quote: Quote) -> None:
        """Every active price alert ``quote`` reaches fires, once: one event each, with the
        quote that hit it."""
        due = self.state.price_alerts.due(quote.instrument, quote.bid, quote.ask)
        for alert in due:
            self.rec.emit(
                EventKind.PRICE_ALERT_HIT,
                "auto",
                {
                    "id": alert.id,
                    "instrument": alert.instrument,
                    "side": alert.side.value,
                    "level": str(alert.level),
                    "bid": str(quote.bid),
                    "ask": str(quote.ask),
                    "quote_ts": quote.ts,
                    "note": alert.note,
                },
            )
        if due and self.on_price_alert_hit is not None:
            self.on_price_alert_hit()

    def roll_day(self, force: bool = False) -> bool:
        """Start a new trading day when 17:00 New York has passed; True when one began."""
        day = trading_day(self.clock()).isoformat()
        if day == self.state.trading_day and not force:
            return False
        for acct in self.state.portfolio.accounts.values():
            self.rec.emit(
                EventKind.DAY_STARTED,
                "auto",
                {
                    "account": acct.id,
                    "trading_day": day,
                    "start_equity": str(round_money(acct.equity)),
                },
            )
        return True

    def check_limits(self) -> None:
        """The automatic rules: REDUCING at a share of the daily loss limit, HALTED at the limit."""
        for acct in self.state.portfolio.accounts.values():
            limit = acct.limits.daily_loss_limit
            loss = acct.day_start_equity - acct.equity
            if loss >= limit and not acct.breached:
                self.rec.emit(
                    EventKind.DAILY_LOSS_BREACHED,
                    "auto",
                    {"account": acct.id, "daily_pl": str(round_money(-loss)), "limit": str(limit)},
                )
                if acct.state is not TradingState.HALTED:
                    self.rec.set_trading_state(
                        acct.id, TradingState.HALTED, "daily loss limit breached", "auto"
                    )
                self.rec.cancel_exposure(
                    acct.id, keep_protective=True, why=CancelWhy.DAILY_LOSS, origin="auto"
                )
                if acct.limits.daily_loss_action == "flatten":
                    self.to_flatten.append(acct.id)
            elif (
                loss >= limit * acct.limits.reduce_at_loss_fraction
                and acct.state is TradingState.ACTIVE
                and acct.id not in self.state.auto_reduced
            ):
                share = acct.limits.reduce_at_loss_fraction * 100
                self.rec.set_trading_state(
                    acct.id, TradingState.REDUCING, f"daily loss at {share:.0f}% of limit", "auto"
                )
