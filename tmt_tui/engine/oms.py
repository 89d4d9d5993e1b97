"""The order book of the engine: open orders by id, recent finished ones, counts per account."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from tmt_tui.domain.orders import Order

RECENT_ORDERS = 200


class OpenOrders:
    """Open orders (SUBMITTED, WORKING, PARTIALLY_FILLED) and the last finished ones.

    ``working`` counts open non-protective orders per account, which the working-orders guard
    reads on every submit.
    """

    def __init__(self) -> None:
        self.open: dict[str, Order] = {}
        self.recent: deque[Order] = deque(maxlen=RECENT_ORDERS)
        self.working: dict[str, int] = {}

    def get(self, order_id: str) -> Order | None:
        return self.open.get(order_id)

    def put(self, order: Order) -> None:
        """Store the latest version of an order; finished orders move to ``recent``."""
        previous = self.open.get(order.id)
        if order.status.is_open:
            if previous is None and not order.is_protective:
                self.working[order.account] = self.working.get(order.account, 0) + 1
            self.open[order.id] = order
            return
        if previous is not None:
            del self.open[order.id]
            if not previous.is_protective:
                self.working[order.account] -= 1
        self.recent.append(order)

    def for_account(self, account: str | None) -> Iterator[Order]:
        for order in list(self.open.values()):
            if account is None or order.account == account:
                yield order

    def count(self, account: str) -> int:
        return self.working.get(account, 0)
