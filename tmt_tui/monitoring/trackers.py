"""What the metrics hooks keep between calls, owned by the engine thread.

Quote counts and ages are plain ints and lists written by that one thread (a scrape copies
them), and submit -> fill pairs orders with their first fill whichever is reported first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TypeVar

OTHER = "OTHER"
TRACKED_ORDERS = 4096  # orders remembered between submit and fill (oldest forgotten first)
QUOTE_AGE_BUCKETS = (
    1e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip

V = TypeVar("V")


class QuoteStats:
    """Quote counts and the quote-age histogram: written by the engine thread alone, lock-free.

    A quote costs two int additions and a bisect here, instead of a locked counter and a locked
    histogram; a scrape copies the bucket list (one C call) so its buckets are always consistent.
    """

    __slots__ = ("accepted", "age_counts", "age_sum", "bounds", "dropped")

    def __init__(self, bounds: Sequence[float] = QUOTE_AGE_BUCKETS) -> None:
        self.bounds = tuple(bounds)
        self.accepted = 0
        self.dropped = 0
        self.age_counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.age_sum = 0.0

    def histogram(self) -> tuple[list[tuple[str, float]], float]:
        """Cumulative ``(le, count)`` buckets ending in +Inf, and the sum."""
        counts, total = self.age_counts.copy(), self.age_sum
        buckets: list[tuple[str, float]] = []
        running = 0
        for bound, count in zip((*map(_le, self.bounds), "+Inf"), counts, strict=True):
            running += count
            buckets.append((bound, float(running)))
        return buckets, total


def _le(bound: float) -> str:
    return repr(float(bound))


class FillTimes:
    """Submit -> first fill per order, whichever the engine reports first.

    A market order on the sim broker fills within the batch that submitted it, so its fill is
    committed before the reply goes out; a resting order replies first and fills later. Both
    maps are bounded: an order that never fills (or a protective order nobody submitted) is
    forgotten once ``limit`` newer ones arrived.
    """

    def __init__(self, limit: int = TRACKED_ORDERS) -> None:
        self.limit = limit
        self.arrived: OrderedDict[str, float] = OrderedDict()  # replied, not yet filled
        self.filled: OrderedDict[str, float] = OrderedDict()  # filled, reply not yet seen
        self.types: OrderedDict[str, str] = OrderedDict()  # order id -> order type

    def submitted(self, order_id: str, order_type: str) -> None:
        _bounded_put(self.types, order_id, order_type, self.limit)

    def replied(self, order_id: str, arrived: float) -> tuple[str, float] | None:
        """The (type, seconds) to observe when this order already filled, else remember it."""
        filled = self.filled.pop(order_id, None)
        if filled is None:
            _bounded_put(self.arrived, order_id, arrived, self.limit)
            return None
        return self.types.pop(order_id, OTHER), max(0.0, filled - arrived)

    def first_fill(self, order_id: str, now: float) -> tuple[str, float] | None:
        """The (type, seconds) to observe when the order's reply was seen, else remember it."""
        arrived = self.arrived.pop(order_id, None)
        if arrived is None:
            if order_id not in self.filled:
                _bounded_put(self.filled, order_id, now, self.limit)
            return None
        return self.types.pop(order_id, OTHER), max(0.0, now - arrived)

    def done(self, order_id: str) -> None:
        """The order ended without a fill (cancelled, rejected): forget it."""
        self.arrived.pop(order_id, None)
        self.types.pop(order_id, None)

    def __len__(self) -> int:
        return len(self.arrived) + len(self.filled) + len(self.types)


def _bounded_put(table: OrderedDict[str, V], key: str, value: V, limit: int) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > limit:
        table.popitem(last=False)
