"""Trading state as a fold over events: ``evolve(event)`` is the only place state changes.

Live trading and replay run the same ``evolve``, so a restarted engine reaches exactly the state
it had. A checkpoint is this state serialized; replay starts from the newest one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from tmt_tui.config import AccountSettings, RiskLimits, Settings
from tmt_tui.domain.client import Snapshot
from tmt_tui.domain.codec import from_wire, to_wire
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.history import CLOSE_PURPOSES, ClosedTrade
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import CancelWhy, Order, OrderStatus, OrderType, cancel_reason
from tmt_tui.domain.positions import AccountState, PortfolioTotals, Position, Trade, TradingState
from tmt_tui.domain.price_alerts import AlertStatus, PriceAlert, alert_set_by
from tmt_tui.engine.batch import Changes
from tmt_tui.engine.oms import OpenOrders
from tmt_tui.engine.portfolio import OpenTrade, Portfolio
from tmt_tui.engine.price_alerts import PriceAlertBook
from tmt_tui.engine.quote_book import QuoteBook

RECENT_EVENTS = 200
CLOSED_TRADES = 10_000  # the blotter's memory; the journal keeps every fill
#: Venue balance changes that are financing (OANDA transaction types); any other change the
#: engine did not book itself is a transfer or a correction.
FINANCING_REASONS = frozenset({"DAILY_FINANCING", "DIVIDEND_ADJUSTMENT"})


class EngineState:
    """Quotes, orders, portfolio and trading state, changed only by ``evolve``."""

    def __init__(self, settings: Settings, instruments: Iterable[Instrument]) -> None:
        self.settings = settings
        self.quotes = QuoteBook(instruments)
        self.portfolio = Portfolio(self.quotes)
        self.orders = OpenOrders()
        self.seq = 0
        self.trading_day = ""
        self.kill_engaged = False
        self.kill_reason = ""
        self.auto_reduced: set[str] = set()
        self.alerts: dict[str, str] = {}  # active alerts (not replayed: rules re-evaluate)
        self.price_alerts = PriceAlertBook()  # the trader's own: journaled, replayed
        self.recent_events: deque[Event] = deque(maxlen=RECENT_EVENTS)
        self.closed_trades: deque[ClosedTrade] = deque(maxlen=CLOSED_TRADES)  # oldest first
        #: Cancels tmt asked for that the venue has not confirmed: order id -> (why, who).
        self.cancel_requests: dict[str, tuple[str, str]] = {}
        self.venue_cursor = 0  # the newest venue transaction id any journaled event came from
        #: a reconciliation with the venue has completed on this journal: its history from the
        #: cursor on is ours (until then a journal is new, whatever else it holds)
        self.venue_known = False
        #: Venue transactions after the cursor already booked from a request's own answer: a
        #: restart's backfill must skip them (an OANDA trade close carries no client id).
        self.venue_seen: set[str] = set()
        self.changes = Changes()  # what events touched since the runner last took a batch
        self._carried: Order | None = None  # the live order behind an event's wire form
        self._limits = {a.id: a.risk for a in settings.accounts}
        self._evolvers: dict[EventKind, Callable[[Event], None]] = {
            EventKind.ENGINE_STARTED: self._started,
            EventKind.DAY_STARTED: self._day_started,
            EventKind.ORDER_SUBMITTED: self._order_stored,
            EventKind.PROTECTIVE_ORDER_CREATED: self._protective_created,
            EventKind.ORDER_ADOPTED: self._protective_created,
            EventKind.POSITION_SYNCED: self._position_synced,
            EventKind.ACCOUNT_SYNCED: self._account_synced,
            EventKind.VENUE_RECONCILED: self._venue_reconciled,
            EventKind.ORDER_REJECTED: self._order_rejected,
            EventKind.ORDER_ACCEPTED: self._order_accepted,
            EventKind.ORDER_MODIFIED: self._order_modified,
            EventKind.ORDER_CANCEL_REQUESTED: self._cancel_requested,
            EventKind.ORDER_CANCELLED: self._order_cancelled,
            EventKind.ORDER_FILLED: self._order_filled,
            EventKind.TRADING_STATE_CHANGED: self._state_changed,
            EventKind.KILL_SWITCH_ENGAGED: self._kill_engaged,
            EventKind.KILL_SWITCH_RESET: self._kill_reset,
            EventKind.DAILY_LOSS_BREACHED: self._loss_breached,
            EventKind.ALERT_RAISED: self._alert,
            EventKind.ALERT_CLEARED: self._alert,
            EventKind.PRICE_ALERT_SET: self._price_alert_set,
            EventKind.PRICE_ALERT_CANCELLED: self._price_alert_cancelled,
            EventKind.PRICE_ALERT_HIT: self._price_alert_hit,
        }

    # the fold -------------------------------------------------------------------------------

    def evolve(self, event: Event, order: Order | None = None) -> None:
        """Fold one event in; ``order``, when given, is the live order its data describes."""
        self.seq = event.seq
        handler = self._evolvers.get(event.kind)
        if handler is not None:
            if order is None:  # replay, and every event but an order's own submission
                handler(event)
            else:
                self._carried = order
                try:
                    handler(event)
                finally:
                    self._carried = None
            txn = event.data.get("txn")
            if txn:
                self.venue_cursor = max(self.venue_cursor, int(txn))
                self.venue_known = True
            seen = event.data.get("seen")
            if seen:
                self.venue_seen.update(seen)

    def _started(self, event: Event) -> None:
        for item in event.data.get("accounts", []):
            limits = self._limits.get(item["id"], RiskLimits())
            self.portfolio.open_account(
                AccountSettings(item["id"], item["currency"], Decimal(item["balance"]), limits)
            )
            self.changes.accounts.add(item["id"])

    def _day_started(self, event: Event) -> None:
        data = event.data
        acct = self.portfolio.accounts[data["account"]]
        acct.day_start_equity = Decimal(data["start_equity"])
        acct.breached = False
        self.auto_reduced.discard(acct.id)
        self.trading_day = data["trading_day"]
        self.changes.accounts.add(acct.id)

    def _store(self, order: Order) -> None:
        self.orders.put(order)
        self.changes.orders[order.id] = order
        if order.account in self.portfolio.accounts:  # a refused order may name a typo
            self.changes.accounts.add(order.account)

    def take_changes(self) -> Changes:
        changes, self.changes = self.changes, Changes()
        return changes

    def _order_stored(self, event: Event) -> None:
        carried = self._carried
        self._store(carried if carried is not None else from_wire(Order, event.data["order"]))

    def _protective_created(self, event: Event) -> None:
        order = from_wire(Order, event.data["order"])
        self._store(order)
        trade = self.portfolio.find_trade(order.account, order.instrument, order.trade_id or "")
        if trade is not None and order.is_protective:
            if order.type is OrderType.TAKE_PROFIT:
                trade.tp_id = order.id
            else:
                trade.sl_id = order.id
            self.portfolio.book_for(order.account, order.instrument).trades_view = None
            self.changes.books.add((order.account, order.instrument))

    def _order_rejected(self, event: Event) -> None:
        order = from_wire(Order, event.data["order"])
        current = self.orders.get(order.id)
        if current is not None:
            order = current.moved_to(OrderStatus.REJECTED, reason=order.reason, updated_ts=event.ts)
        self._store(order)

    def _order_accepted(self, event: Event) -> None:
        order = self.orders.open[event.data["order_id"]]
        self._store(
            order.moved_to(
                OrderStatus.WORKING, venue_id=event.data["venue_id"], updated_ts=event.ts
            )
        )

    def _order_modified(self, event: Event) -> None:
        data = event.data
        order = self.orders.open[data["order_id"]]
        price = Decimal(data["price"]) if data.get("price") is not None else order.price
        distance = order.trailing_stop_distance
        if order.type is OrderType.TRAILING_STOP_LOSS:  # its "price" is how far it trails
            price, distance = order.price, price
        self._store(
            order.moved_to(
                order.status,
                price=price,
                trailing_stop_distance=distance,
                units=int(data["units"]),
                venue_id=data.get("venue_id", order.venue_id),
                updated_ts=event.ts,
            )
        )

    def _cancel_requested(self, event: Event) -> None:
        self.cancel_requests[event.data["order_id"]] = (event.data["why"], event.origin)

    def cancel_data(self, order_id: str, venue_reason: str) -> dict[str, Any]:
        """An ``order.cancelled`` event's data: the venue's reason, and why tmt asked (with
        who asked) or ``venue`` when it did not."""
        why, by = self.cancel_requests.get(order_id, (CancelWhy.VENUE.value, "venue"))
        return {"order_id": order_id, "reason": venue_reason, "why": why, "requested_by": by}

    def _order_cancelled(self, event: Event) -> None:
        order = self.orders.open[event.data["order_id"]]
        self.cancel_requests.pop(order.id, None)
        data = event.data
        shown = cancel_reason(data.get("why"), data.get("requested_by"), data["reason"])
        self._store(order.moved_to(OrderStatus.CANCELLED, reason=shown, updated_ts=event.ts))
        if order.trade_id is not None:
            self._detach(order)

    def _detach(self, order: Order) -> None:
        trade = self.portfolio.find_trade(order.account, order.instrument, order.trade_id or "")
        if trade is not None:
            if trade.tp_id == order.id:
                trade.tp_id = None
            if trade.sl_id == order.id:
                trade.sl_id = None
            self.portfolio.book_for(order.account, order.instrument).trades_view = None
            self.changes.books.add((order.account, order.instrument))

    def _order_filled(self, event: Event) -> None:
        data = event.data
        order = self.orders.open[data["order_id"]]
        units = int(data["units"])
        price = Decimal(data["price"])
        filled = order.filled_units + units
        previous_value = (order.avg_fill_price or Decimal(0)) * order.filled_units
        avg = (previous_value + price * units) / filled if filled else price
        done = order.is_protective or abs(filled) >= abs(order.units)
        self._store(
            order.moved_to(
                OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
                filled_units=filled,
                avg_fill_price=avg.quantize(price) if avg != price else price,
                updated_ts=event.ts,
            )
        )
        rate = data.get("conversion_rate")
        closes = data.get("closes")
        closed = self.portfolio.apply_fill(
            order.account,
            order.instrument,
            units,
            price,
            None if rate is None else Decimal(rate),
            data["fill_id"],
            float(data["ts"]),
            trade_id=order.trade_id,
            closes=None
            if closes is None
            else [(tid, int(step), Decimal(pnl)) for tid, step, pnl in closes],
        )
        if closed:
            why = _close_reason(order)
            digits = self.quotes.instruments[order.instrument].display_precision + 1
            for trade in closed:
                mae, mfe = _excursions_at_close(trade, float(price))
                self.closed_trades.append(
                    ClosedTrade(
                        order.account,
                        order.instrument,
                        trade.id,
                        trade.initial_units,
                        trade.open_ts,
                        trade.price,
                        float(data["ts"]),
                        price,
                        trade.realized,
                        why,
                        round(Decimal(mae), digits),
                        round(Decimal(mfe), digits),
                    )
                )
        financing = data.get("financing")
        if financing:
            self.portfolio.book_cash(order.account, Decimal(financing), financing=True)
        self._resize_protection(order.account, order.instrument)
        self.changes.books.add((order.account, order.instrument))

    def _resize_protection(self, account: str, instrument: str) -> None:
        """A take-profit or stop-loss covers what is left of its trade: after a partial close
        its units follow the trade (the venues close the rest of the trade when it fires, so
        a size that stayed as it was would show more than can ever fill)."""
        book = self.portfolio.books.get((account, instrument))
        if book is None:
            return
        for lot in book.trades:
            for order_id in (lot.tp_id, lot.sl_id):
                order = self.orders.open.get(order_id) if order_id else None
                if order is not None and lot.units and order.units != -lot.units:
                    self._store(order.with_changes({"units": -lot.units}))

    def _position_synced(self, event: Event) -> None:
        """The venue's lots replace ours for one instrument (realized P&L stays as booked)."""
        data = event.data
        book = self.portfolio.book_for(data["account"], data["instrument"])
        book.trades = []
        for wire in data["trades"]:
            trade = from_wire(Trade, wire)
            lot = OpenTrade(trade.id, trade.units, trade.price, trade.open_ts)
            lot.initial_units = trade.initial_units
            lot.tp_id, lot.sl_id = trade.take_profit_order_id, trade.stop_loss_order_id
            book.trades.append(lot)
        book.recount()
        self.portfolio.mark_book(book)
        self.changes.books.add((book.account, book.instrument))
        self.changes.accounts.add(book.account)

    def _account_synced(self, event: Event) -> None:
        """The venue's balance: what differs from ours is financing (OANDA's daily financing)
        or a transfer or correction, so the ledger identity keeps holding."""
        acct = self.portfolio.accounts[event.data["account"]]
        change = Decimal(event.data["balance"]) - acct.balance
        financing = event.data.get("reason") in FINANCING_REASONS
        self.portfolio.book_cash(acct.id, change, financing)
        self.changes.accounts.add(acct.id)

    def _venue_reconciled(self, event: Event) -> None:
        last = event.data.get("last_transaction_id")
        if last:
            self.venue_cursor = max(self.venue_cursor, int(last))
        self.venue_known = True

    def _state_changed(self, event: Event) -> None:
        acct = self.portfolio.accounts[event.data["account"]]
        acct.state = TradingState(event.data["state"])
        acct.reason = event.data["reason"]
        if acct.state is TradingState.REDUCING and event.origin == "auto":
            self.auto_reduced.add(acct.id)
        self.changes.accounts.add(acct.id)

    def _kill_engaged(self, event: Event) -> None:
        self.kill_engaged = True
        self.kill_reason = event.data["reason"]

    def _kill_reset(self, event: Event) -> None:
        self.kill_engaged = False
        self.kill_reason = ""

    def _loss_breached(self, event: Event) -> None:
        self.portfolio.accounts[event.data["account"]].breached = True
        self.changes.accounts.add(event.data["account"])

    def _alert(self, event: Event) -> None:
        if event.kind is EventKind.ALERT_RAISED:
            self.alerts[event.data["key"]] = event.data["message"]
        else:
            self.alerts.pop(event.data["key"], None)

    def _price_alert_set(self, event: Event) -> None:
        self.price_alerts.add(alert_set_by(event))

    def _price_alert_cancelled(self, event: Event) -> None:
        self.price_alerts.finish(event.data["id"], AlertStatus.CANCELLED, event.ts)

    def _price_alert_hit(self, event: Event) -> None:
        data = event.data
        self.price_alerts.finish(
            data["id"],
            AlertStatus.HIT,
            float(data["quote_ts"]),
            Decimal(data["bid"]),
            Decimal(data["ask"]),
        )

    # views ----------------------------------------------------------------------------------

    def account_view(self, account_id: str) -> AccountState:
        return self.portfolio.account_state(account_id, self.orders.count(account_id))

    def positions(self) -> list[Position]:
        return [
            self.portfolio.position_view(key)
            for key, book in self.portfolio.books.items()
            if book.units != 0
        ]

    def report_rates(self) -> dict[str, Decimal]:
        """What one unit of each account's currency is worth in the report currency now (an
        account whose currency has no rate yet is left out)."""
        currency = self.settings.engine.report_currency
        rates = {}
        for account_id, account in self.portfolio.accounts.items():
            rate = self.quotes.rate(account.currency, currency)
            if rate is not None:
                rates[account_id] = rate
        return rates

    def totals(self) -> PortfolioTotals | None:
        """All accounts in the reporting currency at current mids; an account with no rate yet
        is left out and named; None only when no account can be converted."""
        currency = self.settings.engine.report_currency
        rates = self.report_rates()
        sums = [Decimal(0)] * 5
        excluded: list[str] = []
        for account_id in self.portfolio.accounts:
            view = self.account_view(account_id)
            rate = rates.get(account_id)
            if rate is None:
                excluded.append(account_id)
                continue
            parts = (view.equity, view.balance, view.unrealized_pl, view.margin_used, view.daily_pl)
            for i, part in enumerate(parts):
                sums[i] += part * rate
        if len(excluded) == len(self.portfolio.accounts):
            return None
        cents = Decimal("0.01")
        equity, balance, upl, margin, daily = (s.quantize(cents) for s in sums)
        return PortfolioTotals(currency, equity, balance, upl, margin, daily, tuple(excluded))

    def snapshot(self, now: float) -> Snapshot:
        orders = list(self.orders.open.values()) + list(self.orders.recent)[-100:]
        return Snapshot(
            seq=self.seq,
            ts=now,
            instruments=tuple(self.quotes.instruments.values()),
            accounts=tuple(self.account_view(a) for a in self.portfolio.accounts),
            positions=tuple(self.positions()),
            orders=tuple(orders),
            quotes=tuple(self.quotes.quotes.values()),
            events=tuple(self.recent_events),
            trading_day=self.trading_day,
            kill_switch_engaged=self.kill_engaged,
            kill_switch_reason=self.kill_reason,
            totals=self.totals(),
            alerts=dict(self.alerts),
            price_alerts=tuple(self.price_alerts.active.values()),
        )

    # checkpoints ----------------------------------------------------------------------------

    def to_checkpoint(self) -> dict[str, Any]:
        """Everything ``evolve`` has built, as plain data (quotes are not state: ticks are)."""
        return {
            "seq": self.seq,
            "trading_day": self.trading_day,
            "kill_engaged": self.kill_engaged,
            "kill_reason": self.kill_reason,
            "auto_reduced": sorted(self.auto_reduced),
            "venue_cursor": self.venue_cursor,
            "venue_known": self.venue_known,
            "venue_seen": sorted(t for t in self.venue_seen if int(t) > self.venue_cursor),
            "accounts": [
                {
                    "id": a.id,
                    "currency": a.currency,
                    "balance": str(a.balance),
                    "opening": str(a.opening),
                    "realized": str(a.realized),
                    "financing": str(a.financing),
                    "transfers": str(a.transfers),
                    "day_start_equity": str(a.day_start_equity),
                    "state": a.state.value,
                    "reason": a.reason,
                    "breached": a.breached,
                }
                for a in self.portfolio.accounts.values()
            ],
            "books": [
                {
                    "account": b.account,
                    "instrument": b.instrument,
                    "realized": str(b.realized),
                    "trades": [
                        [
                            t.id,
                            t.units,
                            t.initial_units,
                            str(t.price),
                            t.open_ts,
                            t.tp_id,
                            t.sl_id,
                            str(t.realized),
                            t.best,
                            t.worst,
                        ]  # fmt: skip
                        for t in b.trades
                    ],
                }
                for b in self.portfolio.books.values()
                if b.trades or b.realized
            ],
            "orders": [to_wire(o) for o in self.orders.open.values()],
            "closed_trades": [to_wire(t) for t in self.closed_trades],
            "cancel_requests": {k: list(v) for k, v in self.cancel_requests.items()},
            "recent": [to_wire(o) for o in self.orders.recent],
            "price_alerts": [to_wire(a) for a in self.price_alerts.active.values()],
            "price_alerts_finished": [to_wire(a) for a in self.price_alerts.finished],
        }

    def load_checkpoint(self, data: dict[str, Any]) -> None:
        self.seq = int(data["seq"])
        self.trading_day = data["trading_day"]
        self.kill_engaged = bool(data["kill_engaged"])
        self.kill_reason = data["kill_reason"]
        self.auto_reduced = set(data["auto_reduced"])
        self.venue_cursor = int(data.get("venue_cursor", 0))
        self.venue_known = bool(data.get("venue_known", self.venue_cursor > 0))
        self.venue_seen = set(data.get("venue_seen", ()))
        for item in data["accounts"]:
            limits = self._limits.get(item["id"], RiskLimits())
            self.portfolio.open_account(
                AccountSettings(item["id"], item["currency"], Decimal(item["balance"]), limits)
            )
            acct = self.portfolio.accounts[item["id"]]
            acct.balance = Decimal(item["balance"])
            acct.realized = Decimal(item["realized"])
            acct.financing = Decimal(item.get("financing", "0"))
            # a checkpoint from before the identity was kept: what is not P&L came from outside
            acct.opening = Decimal(item.get("opening", acct.balance - acct.realized))
            acct.transfers = Decimal(
                item.get("transfers", acct.balance - acct.opening - acct.realized - acct.financing)
            )
            acct.day_start_equity = Decimal(item["day_start_equity"])
            acct.state = TradingState(item["state"])
            acct.reason = item["reason"]
            acct.breached = bool(item["breached"])
        for item in data["books"]:
            book = self.portfolio.book_for(item["account"], item["instrument"])
            book.realized = Decimal(item["realized"])
            for tid, units, initial, price, open_ts, tp_id, sl_id, realized, *seen in item[
                "trades"
            ]:
                trade = OpenTrade(tid, int(units), Decimal(price), float(open_ts))
                trade.initial_units = int(initial)
                trade.tp_id, trade.sl_id, trade.realized = tp_id, sl_id, Decimal(realized)
                if seen:  # excursions (checkpoints before them start at the entry)
                    trade.best, trade.worst = float(seen[0]), float(seen[1])
                book.trades.append(trade)
            book.recount()
        self.closed_trades.extend(from_wire(ClosedTrade, w) for w in data.get("closed_trades", []))
        self.cancel_requests = {
            k: (str(v[0]), str(v[1])) for k, v in data.get("cancel_requests", {}).items()
        }
        self.price_alerts.restore(
            (from_wire(PriceAlert, w) for w in data.get("price_alerts", [])),
            (from_wire(PriceAlert, w) for w in data.get("price_alerts_finished", [])),
        )
        for wire in data["recent"]:
            self.orders.put(from_wire(Order, wire))
        for wire in data["orders"]:
            self.orders.put(from_wire(Order, wire))


_PROTECTIVE_REASONS = {
    OrderType.TAKE_PROFIT: "take-profit",
    OrderType.STOP_LOSS: "stop-loss",
    OrderType.TRAILING_STOP_LOSS: "trailing stop",
}


def _close_reason(order: Order) -> str:
    """Why a fill of ``order`` closed trades, in a trader's words."""
    if order.type in _PROTECTIVE_REASONS:
        return _PROTECTIVE_REASONS[order.type]
    if order.origin == "venue":
        return "outside tmt"
    if order.reduce_only and order.reason in CLOSE_PURPOSES:
        return order.reason
    return "close" if order.reduce_only else "reversal"


def _excursions_at_close(trade: OpenTrade, fill: float) -> tuple[float, float]:
    """(MAE, MFE) of a trade as it closes: the closing price is one it reached too."""
    if trade.initial_units > 0:
        trade.best, trade.worst = max(trade.best, fill), min(trade.worst, fill)
    else:
        trade.best, trade.worst = min(trade.best, fill), max(trade.worst, fill)
    return trade.excursions()
