"""Top-of-book quotes and the sanity rules a feed's quote must pass."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Quote:
    """Best bid and ask for one instrument at venue time ``ts`` (epoch seconds)."""

    instrument: str
    bid: Decimal
    ask: Decimal
    ts: float

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    @property
    def spread(self) -> Decimal:
        return self.ask - self.bid

    def to_wire(self) -> list[Any]:
        """A compact list form: quotes are the highest-rate data that crosses the wire."""
        return [self.instrument, str(self.bid), str(self.ask), self.ts]

    @classmethod
    def from_wire(cls, data: list[Any]) -> Quote:
        return cls(data[0], Decimal(data[1]), Decimal(data[2]), float(data[3]))


def quote_problem(bid: Decimal, ask: Decimal) -> str | None:
    """Why a quote is unusable (NaN, infinite, non-positive, crossed), or None when sane."""
    if not (bid.is_finite() and ask.is_finite()):
        return "price is not a finite number"
    if bid <= 0 or ask <= 0:
        return "price is not positive"
    if bid > ask:
        return "quote is crossed (bid above ask)"
    return None
