"""Trailing stops, as OANDA runs them: each follows the best price seen in its trade's favour
(the bid for a long trade, the ask for a short one) and triggers when the market comes back
``distance`` from it. The ledger owns the orders; this keeps the prices."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tmt_tui.domain.quotes import Quote


@dataclass
class Trail:
    """A trailing stop's state: the best price seen in the trade's favour."""

    trade_id: str
    long: bool
    distance: Decimal
    best: Decimal

    @property
    def trigger(self) -> Decimal:
        return self.best - self.distance if self.long else self.best + self.distance


class TrailingStops:
    """The account's trailing stops by instrument, keyed by order id."""

    def __init__(self) -> None:
        self._by_instrument: dict[str, dict[str, Trail]] = {}

    def add(self, instrument: str, order_id: str, trail: Trail) -> None:
        self._by_instrument.setdefault(instrument, {})[order_id] = trail

    def remove(self, order_id: str) -> None:
        for trails in self._by_instrument.values():
            trails.pop(order_id, None)

    def on_quote(self, quote: Quote) -> tuple[dict[str, Decimal], list[tuple[str, Trail]]]:
        """Move the stops on ``quote``'s instrument: (order id -> new trigger for those that
        moved, [(order id, trail)] for those touched, which are removed)."""
        moved: dict[str, Decimal] = {}
        touched: list[tuple[str, Trail]] = []
        trails = self._by_instrument.get(quote.instrument, {})
        for oid, trail in list(trails.items()):
            touch = quote.bid if trail.long else quote.ask
            if (touch > trail.best) if trail.long else (touch < trail.best):
                trail.best = touch
                moved[oid] = trail.trigger
            if (touch <= trail.trigger) if trail.long else (touch >= trail.trigger):
                del trails[oid]
                touched.append((oid, trail))
        return moved, touched
