"""Pre-trade risk: flat guard clauses, each returning a reason code and a message, or None.

A normal rejection is a value, never an exception. Orders that only reduce a position skip the
exposure guards and pass HALTED / REDUCING, because a trader must always be able to get out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from decimal import Decimal

from tmt_tui.domain.instruments import Instrument, why_watch_only
from tmt_tui.domain.orders import Order, OrderType, TimeInForce
from tmt_tui.domain.positions import TradingState
from tmt_tui.domain.preview import OrderPreview, PreviewCheck
from tmt_tui.domain.reasons import Reason
from tmt_tui.engine.portfolio import Account, Portfolio
from tmt_tui.engine.quote_book import QuoteBook

Rejection = tuple[Reason, str]
HUNDRED = Decimal(100)


def _check(name: str, rejection: Rejection | None) -> PreviewCheck:
    if rejection is None:
        return PreviewCheck(name, True)
    code, message = rejection
    return PreviewCheck(name, False, code.value, message)


def reduces(order_units: int, position_units: int) -> bool:
    """True when the order only shrinks the position (never flips or grows it)."""
    return (
        position_units != 0
        and (order_units > 0) != (position_units > 0)
        and abs(order_units) <= abs(position_units)
    )


def _expiry(order: Order, now: float) -> Rejection | None:
    """A GTD order names a future expiry; no other order names one (OANDA's rule: GTD needs a
    ``gtdTime``, a market order is FOK or IOC)."""
    gtd = order.time_in_force is TimeInForce.GTD
    if order.type is OrderType.MARKET and gtd:
        return Reason.INVALID_EXPIRY, "a market order fills now or never: GTD is for limit and stop"
    if not gtd:
        if order.gtd_time is not None:
            return Reason.INVALID_EXPIRY, "an expiry needs time in force GTD"
        return None
    if order.gtd_time is None:
        return Reason.INVALID_EXPIRY, "GTD needs an expiry time"
    if order.gtd_time <= now:
        return Reason.INVALID_EXPIRY, "the GTD expiry is in the past"
    return None


class Throttle:
    """At most ``limit`` orders in any one-second window, per account."""

    def __init__(self) -> None:
        self._stamps: dict[str, deque[float]] = {}

    def allow(self, account: str, limit: int, now: float) -> bool:
        stamps = self._stamps.setdefault(account, deque())
        while stamps and now - stamps[0] >= 1.0:
            stamps.popleft()
        return len(stamps) < limit

    def record(self, account: str, now: float) -> None:
        self._stamps.setdefault(account, deque()).append(now)


class RiskEngine:
    """Runs every guard in order; the first failure is the answer."""

    def __init__(self, book: QuoteBook, portfolio: Portfolio) -> None:
        self.quotes = book
        self.portfolio = portfolio
        self.throttle = Throttle()

    def check(
        self, order: Order, working_orders: int, now: float, halt_pending: bool = False
    ) -> Rejection | None:
        acct = self.portfolio.accounts.get(order.account)
        if acct is None:
            return Reason.UNKNOWN_ACCOUNT, f"unknown account {order.account}"
        inst = self.quotes.instruments.get(order.instrument)
        if inst is None:
            return Reason.UNKNOWN_INSTRUMENT, f"unknown instrument {order.instrument}"
        if not inst.tradeable:
            return Reason.INSTRUMENT_NOT_TRADEABLE, why_watch_only(inst)
        position = self.portfolio.units(order.account, order.instrument)
        reducing = reduces(order.units, position)
        return (
            self._state(acct, order, reducing, halt_pending)
            or self._units(inst, acct, order)
            or _expiry(order, now)
            or self._prices(inst, acct, order, now, reducing)
            or self._exposure(inst, acct, order, position, reducing)
            or self._working(acct, order, working_orders, reducing)
            or (None if reducing else self._rate(acct, order, now))
        )

    def preview(
        self, order: Order, working_orders: int, now: float, halt_pending: bool = False
    ) -> OrderPreview:
        """Every guard on ``order``, each on its own (``check`` stops at the first), and the
        figures they judge: a dry run the ticket shows as the trader types. Reads only: the
        order-rate window is looked at, not moved."""
        name, account = order.instrument, order.account
        acct = self.portfolio.accounts.get(account)
        inst = self.quotes.instruments.get(name)
        blank = OrderPreview(account, name, order.units)
        if acct is None:
            return replace(blank, checks=(_check("account", (Reason.UNKNOWN_ACCOUNT, account)),))
        if inst is None or not inst.tradeable:
            why: Rejection = (
                (Reason.UNKNOWN_INSTRUMENT, f"unknown instrument {name}")
                if inst is None
                else (Reason.INSTRUMENT_NOT_TRADEABLE, why_watch_only(inst))
            )
            return replace(blank, currency=acct.currency, checks=(_check("instrument", why),))
        position = self.portfolio.units(account, name)
        reducing = reduces(order.units, position)
        limits = acct.limits
        rate_ok = self.throttle.allow(account, limits.max_orders_per_second, now)
        checks = (
            _check("state", self._state(acct, order, reducing, halt_pending)),
            _check("units", self._units(inst, acct, order)),
            _check("expiry", _expiry(order, now)),
            _check("prices", self._prices(inst, acct, order, now, reducing)),
            _check("exposure", self._exposure(inst, acct, order, position, reducing)),
            _check("working orders", self._working(acct, order, working_orders, reducing)),
            _check(
                "order rate",
                None
                if rate_ok or reducing
                else (Reason.RATE_LIMITED, f"more than {limits.max_orders_per_second} a second"),
            ),
        )
        quote = self.quotes.quotes.get(name)
        fx = self.quotes.frate(inst.quote, acct.currency)
        equity = acct.fequity
        loss_room = float(limits.daily_loss_limit) + min(equity - float(acct.day_start_equity), 0)
        preview = replace(
            blank,
            currency=acct.currency,
            checks=checks,
            equity=equity,
            margin_used_after=acct.margin,
            position_after=position + order.units,
            loss_headroom=max(loss_room, 0.0),
            leverage_now=acct.exposure / equity if equity > 0 else 0.0,
        )
        if quote is None or fx is None:
            return preview
        mid = (quote.bid + quote.ask) / 2
        reference: Decimal | None
        if order.type is OrderType.MARKET:
            reference = quote.ask if order.units > 0 else quote.bid
            distance = None
        else:
            reference = order.price
            distance = None if reference is None else float((reference - mid) / inst.pip)
        price = float(reference if reference is not None else mid)
        added = (abs(position + order.units) - abs(position)) * price * fx
        needed = max(added, 0.0) * float(inst.margin_rate)
        return replace(
            preview,
            reference_price=reference,
            distance_pips=None if distance is None else round(distance, 1),
            notional=abs(order.units) * price * fx,
            leverage_after=(acct.exposure + added) / equity if equity > 0 else 0.0,
            margin_needed=needed,
            margin_available_after=equity - acct.margin - needed,
            margin_used_after=acct.margin + needed,
        )

    # guards ---------------------------------------------------------------------------------

    def _state(
        self, acct: Account, order: Order, reducing: bool, halt_pending: bool
    ) -> Rejection | None:
        if reducing:
            return None
        if halt_pending or acct.state is TradingState.HALTED:
            why = acct.reason or "kill switch engaged"
            return Reason.TRADING_HALTED, f"{acct.id} is HALTED ({why}): only closing orders"
        if acct.state is TradingState.REDUCING:
            return Reason.REDUCE_ONLY, f"{acct.id} is REDUCING: only orders that reduce a position"
        if order.reduce_only:
            return Reason.REDUCE_ONLY, "reduce-only order would not reduce the position"
        return None

    def _units(self, inst: Instrument, acct: Account, order: Order) -> Rejection | None:
        size = abs(order.units)
        if size == 0:
            return Reason.INVALID_UNITS, "units must not be zero"
        if size < inst.min_units:
            return Reason.UNITS_BELOW_MINIMUM, f"{inst.name} minimum is {inst.min_units} units"
        if size > inst.max_units:
            return Reason.UNITS_ABOVE_MAXIMUM, f"{inst.name} maximum is {inst.max_units:,} units"
        if size > acct.limits.max_order_units:
            return (
                Reason.UNITS_ABOVE_MAXIMUM,
                f"{size:,} units exceeds the order limit of {acct.limits.max_order_units:,}",
            )
        return None

    def _prices(
        self, inst: Instrument, acct: Account, order: Order, now: float, reducing: bool
    ) -> Rejection | None:
        quote = self.quotes.quotes.get(inst.name)
        if quote is None:
            return Reason.NO_QUOTE, f"no price for {inst.name} yet"
        limits = acct.limits
        for label, price in (
            ("price", order.price),
            ("take-profit", order.take_profit),
            ("stop-loss", order.stop_loss),
        ):
            if price is None:
                continue
            if not price.is_finite() or price <= 0:
                return Reason.INVALID_PRICE, f"{label} must be a positive number"
            if not inst.is_on_tick(price):
                return (
                    Reason.PRICE_PRECISION_EXCEEDED,
                    f"{label} {price} has more than {inst.display_precision} decimals",
                )
        mid = (quote.bid + quote.ask) / 2
        if order.type is OrderType.MARKET:
            if order.price is not None:
                return Reason.INVALID_PRICE, "a market order takes no price"
            age = now - quote.ts
            if age > limits.max_quote_age_s and not reducing:
                return Reason.STALE_QUOTE, f"{inst.name} quote is {age:.1f}s old"
            reference = quote.ask if order.units > 0 else quote.bid
        else:
            if order.price is None:
                return Reason.INVALID_PRICE, f"a {order.type.value.lower()} order needs a price"
            if abs(order.price - mid) * HUNDRED > mid * limits.price_collar_pct:
                return (
                    Reason.PRICE_COLLAR,
                    f"price {order.price} is more than {limits.price_collar_pct}% from mid "
                    f"{mid.quantize(inst.tick)}",
                )
            reference = order.price
        buy = order.units > 0
        tp, sl = order.take_profit, order.stop_loss
        if tp is not None and (tp <= reference if buy else tp >= reference):
            side = "above" if buy else "below"
            return Reason.INVALID_PRICE, f"take-profit must be {side} the entry price {reference}"
        if sl is not None and (sl >= reference if buy else sl <= reference):
            side = "below" if buy else "above"
            return Reason.INVALID_PRICE, f"stop-loss must be {side} the entry price {reference}"
        return None

    def _exposure(
        self, inst: Instrument, acct: Account, order: Order, position: int, reducing: bool
    ) -> Rejection | None:
        """Notional, position size, leverage and margin after the order (floats: limits are
        coarse, and this guard runs on every order with marks that move on every tick)."""
        if reducing:  # getting out is always allowed: with no rate yet, its fill waits for one
            return None
        rate = self.quotes.frate(inst.quote, acct.currency)
        if rate is None:
            return (
                Reason.NO_CONVERSION_RATE,
                f"no rate to convert {inst.quote} into {acct.currency}",
            )
        name = inst.name
        price = (
            float(order.price)
            if order.price is not None
            else (self.quotes.fbid[name] + self.quotes.fask[name]) * 0.5
        )
        limits = acct.limits
        notional = abs(order.units) * price * rate
        if notional > limits.max_order_notional:
            return (
                Reason.NOTIONAL_ABOVE_MAXIMUM,
                f"notional {notional:,.0f} {acct.currency} exceeds {limits.max_order_notional:,}",
            )
        after = position + order.units
        if abs(after) > limits.max_position_units:
            return (
                Reason.POSITION_LIMIT_EXCEEDED,
                f"{name} position would be {after:,} units (limit {limits.max_position_units:,})",
            )
        added = (abs(after) - abs(position)) * price * rate
        equity = acct.fequity
        if equity <= 0:
            return Reason.INSUFFICIENT_MARGIN, f"{acct.id} equity is not positive"
        leverage = (acct.exposure + added) / equity
        if leverage > limits.max_leverage:
            return (
                Reason.LEVERAGE_LIMIT_EXCEEDED,
                f"leverage would be {leverage:.1f}x (limit {limits.max_leverage}x)",
            )
        needed = added * float(inst.margin_rate)
        available = equity - acct.margin
        if needed > available:
            return (
                Reason.INSUFFICIENT_MARGIN,
                f"needs {needed:,.2f} {acct.currency} margin, {available:,.2f} available",
            )
        if acct.breached:
            return Reason.DAILY_LOSS_LIMIT, f"{acct.id} breached its daily loss limit"
        return None

    def _working(
        self, acct: Account, order: Order, working_orders: int, reducing: bool
    ) -> Rejection | None:
        if order.type is OrderType.MARKET or reducing:
            return None
        if working_orders >= acct.limits.max_working_orders:
            return (
                Reason.MAX_WORKING_ORDERS,
                f"{acct.id} has {working_orders} working orders (limit "
                f"{acct.limits.max_working_orders})",
            )
        return None

    def _rate(self, acct: Account, order: Order, now: float) -> Rejection | None:
        if not self.throttle.allow(acct.id, acct.limits.max_orders_per_second, now):
            return (
                Reason.RATE_LIMITED,
                f"more than {acct.limits.max_orders_per_second} orders a second on {acct.id}",
            )
        return None
