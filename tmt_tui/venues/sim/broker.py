"""A paper broker that behaves like a netting FX broker: fills at the touch, resting limit and
stop orders, take-profit / stop-loss attached to the trade a fill opens, and broker-style rejects.

It keeps its own book (resting orders, open trades per account and instrument) because a real
broker does: the engine's portfolio and this ledger must agree, and reconciliation checks it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.netting import reduce_order
from tmt_tui.domain.orders import Order, OrderStatus, OrderType, TimeInForce
from tmt_tui.domain.positions import Trade
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.reasons import Reason
from tmt_tui.venues.base import (
    MarginProbe,
    VenueAccepted,
    VenueCancelled,
    VenueEvent,
    VenueFilled,
    VenueModified,
    VenueProtectiveCreated,
    VenueRejected,
    VenueSink,
)


def _drop(_: VenueEvent) -> None:
    return None


class _Lot:
    """An open trade in the broker's own ledger."""

    __slots__ = ("id", "units")

    def __init__(self, trade_id: str, units: int) -> None:
        self.id = trade_id
        self.units = units


class SimBroker:
    """Executes against the latest quote it was shown; reports through the sink synchronously."""

    def __init__(
        self,
        instruments: Iterable[Instrument],
        clock: Callable[[], float] = time.time,
        margin_probe: MarginProbe | None = None,
    ) -> None:
        self._instruments = {i.name: i for i in instruments}
        self._clock = clock
        self._margin_probe = margin_probe
        self._sink: VenueSink = _drop
        self._quotes: dict[str, Quote] = {}
        self._resting: dict[str, dict[str, Order]] = {}  # instrument -> order id -> order
        self._where: dict[str, str] = {}  # order id -> instrument
        self._trades: dict[tuple[str, str], list[_Lot]] = {}
        self._linked: dict[str, list[str]] = {}  # trade id -> protective order ids
        self._fills: dict[str, int] = {}  # order id -> fills so far (ids stay unique)
        # per instrument: (highest buy limit, lowest sell limit, lowest buy stop, highest sell
        # stop), so a quote that touches nothing costs four comparisons
        self._bounds: dict[str, tuple[float, float, float, float]] = {}
        # resting GTD orders: order id -> expiry (epoch seconds), and the soonest, so a quote
        # costs one comparison while none is due
        self._expiries: dict[str, float] = {}
        self._next_expiry = float("inf")

    def connect(self, sink: VenueSink) -> None:
        self._sink = sink

    def probe_margin(self, probe: MarginProbe) -> None:
        """Ask ``probe`` whether an account can carry a fill (the engine's portfolio)."""
        self._margin_probe = probe

    def restore(self, open_orders: Iterable[Order], trades: Iterable[Trade]) -> None:
        for trade in trades:
            self._trades.setdefault((trade.account, trade.instrument), []).append(
                _Lot(trade.id, trade.units)
            )
        for order in open_orders:
            self._rest(order)
            if order.trade_id:
                self._linked.setdefault(order.trade_id, []).append(order.id)

    def open_trades(self, account: str, instrument: str) -> list[tuple[str, int]]:
        """The broker's own lots, oldest first, as (trade id, units)."""
        return [(lot.id, lot.units) for lot in self._trades.get((account, instrument), [])]

    # requests -------------------------------------------------------------------------------

    def submit(self, order: Order) -> None:
        inst = self._instruments.get(order.instrument)
        if inst is None:
            self._reject(order, Reason.UNKNOWN_INSTRUMENT, f"unknown instrument {order.instrument}")
            return
        if abs(order.units) < inst.min_units:
            self._reject(order, Reason.UNITS_BELOW_MINIMUM, f"minimum is {inst.min_units} units")
            return
        for label, price in (
            ("price", order.price),
            ("take-profit", order.take_profit),
            ("stop-loss", order.stop_loss),
        ):
            if price is not None and not inst.is_on_tick(price):
                self._reject(
                    order,
                    Reason.PRICE_PRECISION_EXCEEDED,
                    f"{label} {price} has more than {inst.display_precision} decimals",
                )
                return
        if order.trailing_stop_distance is not None:
            self._reject(
                order, Reason.BROKER_REJECT, "the sim broker does not offer trailing stops yet"
            )
            return
        quote = self._quotes.get(order.instrument)
        if order.type is OrderType.MARKET:
            if quote is None:
                self._reject(order, Reason.NO_QUOTE, f"no price for {order.instrument}")
                return
            price = quote.ask if order.units > 0 else quote.bid
            shortfall = self._shortfall(order, order.units, price)
            if shortfall is not None:
                self._reject(order, Reason.INSUFFICIENT_MARGIN, shortfall)
                return
            self._fill(order, order.units, price)
            return
        self._sink(VenueAccepted(order.id, f"S-{order.id}"))
        self._rest(order)
        if quote is not None:
            self._trigger(quote, (order,))
        # fill now or never (a paper fill is whole, so FOK and IOC agree); OANDA's reason
        now_or_never = order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
        if now_or_never and self._unrest(order.id) is not None:
            self._sink(VenueCancelled(order.id, "TIME_IN_FORCE_EXPIRED"))

    def modify(self, order: Order, price: Decimal | None, units: int) -> None:
        resting = self._resting.get(self._where.get(order.id, ""), {}).get(order.id)
        if resting is None:
            self._sink(
                VenueRejected(
                    order.id, Reason.UNKNOWN_ORDER.value, "order is not working", "modify"
                )
            )
            return
        inst = self._instruments[order.instrument]
        if price is not None and not inst.is_on_tick(price):
            self._sink(
                VenueRejected(
                    order.id,
                    Reason.PRICE_PRECISION_EXCEEDED.value,
                    f"price {price} has more than {inst.display_precision} decimals",
                    "modify",
                )
            )
            return
        updated = replace(resting, price=price if price is not None else resting.price, units=units)
        self._rest(updated)
        self._sink(VenueModified(order.id, updated.price, units))
        quote = self._quotes.get(order.instrument)
        if quote is not None:
            self._trigger(quote, (updated,))

    def cancel(self, order: Order) -> None:
        if self._unrest(order.id) is None:
            self._sink(
                VenueRejected(
                    order.id, Reason.UNKNOWN_ORDER.value, "order is not working", "cancel"
                )
            )
            return
        self._sink(VenueCancelled(order.id, "CLIENT_REQUEST"))

    def on_quote(self, quote: Quote) -> None:
        name = quote.instrument
        self._quotes[name] = quote
        if self._expiries and self._clock() >= self._next_expiry:
            self.expire_due()
        bounds = self._bounds.get(name)
        if bounds is None:
            return
        bid, ask = float(quote.bid), float(quote.ask)
        buy_limit, sell_limit, buy_stop, sell_stop = bounds
        if ask <= buy_limit or bid >= sell_limit or ask >= buy_stop or bid <= sell_stop:
            self._trigger(quote, tuple(self._resting[name].values()))

    def expire_due(self) -> None:
        """Cancel every GTD order whose time has come on this broker's clock, with OANDA's
        reason. Checked as prices arrive (the sim market quotes every second of the week),
        before they can fill an order that has expired."""
        now = self._clock()
        for order_id in [oid for oid, when in self._expiries.items() if when <= now]:
            if self._unrest(order_id) is not None:
                self._sink(VenueCancelled(order_id, "TIME_IN_FORCE_EXPIRED"))

    def _rebound(self, instrument: str) -> None:
        orders = self._resting.get(instrument)
        if not orders:
            self._bounds.pop(instrument, None)
            return
        inf = float("inf")
        buy_limit, sell_limit, buy_stop, sell_stop = -inf, inf, inf, -inf
        for order in orders.values():
            if order.price is None:
                continue
            price = float(order.price)
            if order.type in (OrderType.LIMIT, OrderType.TAKE_PROFIT):
                if order.units > 0:
                    buy_limit = max(buy_limit, price)
                else:
                    sell_limit = min(sell_limit, price)
            elif order.units > 0:
                buy_stop = min(buy_stop, price)
            else:
                sell_stop = max(sell_stop, price)
        self._bounds[instrument] = (buy_limit, sell_limit, buy_stop, sell_stop)

    # internals ------------------------------------------------------------------------------

    def _reject(self, order: Order, code: Reason, message: str) -> None:
        self._sink(VenueRejected(order.id, code.value, message))

    def _rest(self, order: Order) -> None:
        self._resting.setdefault(order.instrument, {})[order.id] = order
        self._where[order.id] = order.instrument
        self._rebound(order.instrument)
        if order.time_in_force is TimeInForce.GTD and order.gtd_time is not None:
            self._expiries[order.id] = order.gtd_time
            self._next_expiry = min(self._next_expiry, order.gtd_time)

    def _unrest(self, order_id: str) -> Order | None:
        instrument = self._where.pop(order_id, None)
        if instrument is None:
            return None
        order = self._resting[instrument].pop(order_id, None)
        self._rebound(instrument)
        if self._expiries.pop(order_id, None) is not None:
            self._next_expiry = min(self._expiries.values(), default=float("inf"))
        return order

    def _trigger(self, quote: Quote, orders: tuple[Order, ...]) -> None:
        for order in orders:
            if order.id not in self._where or order.price is None:
                continue
            buy = order.units > 0
            touch = quote.ask if buy else quote.bid
            limit_like = order.type in (OrderType.LIMIT, OrderType.TAKE_PROFIT)
            if limit_like:
                hit = touch <= order.price if buy else touch >= order.price
            else:
                hit = touch >= order.price if buy else touch <= order.price
            if not hit:
                continue
            self._unrest(order.id)
            units = order.units
            if order.trade_id is not None:
                remaining = self._trade_units(order.account, order.instrument, order.trade_id)
                if remaining == 0:
                    self._sink(VenueCancelled(order.id, "LINKED_TRADE_CLOSED"))
                    continue
                units = -remaining
            elif self._shortfall(order, units, touch) is not None:
                self._sink(VenueCancelled(order.id, Reason.INSUFFICIENT_MARGIN.value))
                continue
            self._fill(order, units, touch)

    def _shortfall(self, order: Order, units: int, price: Decimal) -> str | None:
        """Why the account cannot carry this fill (a broker checks margin when it fills)."""
        if self._margin_probe is None:
            return None
        return self._margin_probe(order.account, order.instrument, units, price)

    def _trade_units(self, account: str, instrument: str, trade_id: str) -> int:
        for lot in self._trades.get((account, instrument), []):
            if lot.id == trade_id:
                return lot.units
        return 0

    def _fill(self, order: Order, units: int, price: Decimal) -> None:
        count = self._fills.get(order.id, 0) + 1
        self._fills[order.id] = count
        fill_id = f"{order.id}.{count}"
        closed = self._book_trades(order, units, fill_id)
        self._sink(VenueFilled(order.id, fill_id, units, price, self._clock()))
        for trade_id in closed:
            for linked in self._linked.pop(trade_id, []):
                if self._unrest(linked) is not None:
                    self._sink(VenueCancelled(linked, "LINKED_TRADE_CLOSED"))
        lots = self._trades.get((order.account, order.instrument), [])
        opened = next((lot.units for lot in lots if lot.id == fill_id), 0)  # the new trade only
        if (
            opened
            and order.type is not OrderType.TAKE_PROFIT
            and order.type is not OrderType.STOP_LOSS
        ):
            self._attach_protection(order, fill_id, opened)

    def _book_trades(self, order: Order, units: int, fill_id: str) -> list[str]:
        """FIFO netting, the named trade first for this fill only; returns the trades closed."""
        lots = self._trades.setdefault((order.account, order.instrument), [])
        closed: list[str] = []
        remaining = units
        named = order.trade_id
        sequence = range(len(lots)) if named is None else reduce_order([x.id for x in lots], named)
        for i in sequence:
            lot = lots[i]
            if not remaining or (lot.units > 0) == (remaining > 0):
                break
            take = min(abs(remaining), abs(lot.units))
            step = take if lot.units < 0 else -take  # units that reduce this trade
            lot.units += step
            remaining -= step
            if lot.units == 0:
                closed.append(lot.id)
        if closed:
            lots[:] = [lot for lot in lots if lot.units]
        if remaining:
            lots.append(_Lot(fill_id, remaining))
        return closed

    def _attach_protection(self, order: Order, trade_id: str, units: int) -> None:
        now = self._clock()
        for suffix, kind, price in (
            ("tp", OrderType.TAKE_PROFIT, order.take_profit),
            ("sl", OrderType.STOP_LOSS, order.stop_loss),
        ):
            if price is None:
                continue
            protective = Order(
                id=f"{trade_id}.{suffix}",
                account=order.account,
                instrument=order.instrument,
                units=-units,
                type=kind,
                status=OrderStatus.WORKING,
                price=price,
                trade_id=trade_id,
                reduce_only=True,
                venue_id=f"S-{trade_id}.{suffix}",
                origin="auto",
                created_ts=now,
                updated_ts=now,
            )
            self._rest(protective)
            self._linked.setdefault(trade_id, []).append(protective.id)
            self._sink(VenueProtectiveCreated(protective))
        quote = self._quotes.get(order.instrument)
        if quote is not None:
            protective_orders = [
                self._resting[order.instrument][oid]
                for oid in self._linked.get(trade_id, [])
                if oid in self._where
            ]
            self._trigger(quote, tuple(protective_orders))
