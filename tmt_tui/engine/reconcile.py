"""Reconciliation: make the engine's book match the venue's, which is the truth.

Run on start and after every reconnect, once the venue's transaction history since the engine's
cursor has been applied (that settles almost everything as ordinary fills and cancels). What is
still different afterwards (an order tmt never heard of, an order that vanished, lots that do not
match, a balance that moved by financing) is journaled as its own event and listed, so that the
trader sees exactly what changed behind tmt's back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import CancelWhy, OrderStatus
from tmt_tui.domain.positions import Trade
from tmt_tui.engine.core import EngineCore
from tmt_tui.venues.base import StatusHook, Venue, VenueSink, VenueSnapshot

log = logging.getLogger(__name__)


async def reconcile_with(
    venue: Venue,
    core: EngineCore,
    sink: VenueSink,
    drain: Callable[[], None],
    status: StatusHook,
) -> None:
    """Bring the engine to the venue's book. New orders are refused until one succeeds: a
    failed attempt leaves the engine reconciling until the next one (after a backoff).
    ``drain`` commits what the venue reported so far (the runner's turn)."""
    core.flags.reconciling = True
    venue.hold_answers(True)
    status("venue.reconciling", True, f"reconciling with {venue.name}: new orders wait")
    try:
        book = await venue.snapshot(list(core.orders.open.values()), sink)
        drain()
        differences = reconcile(core, book, venue.name)
    finally:
        venue.hold_answers(False)
        drain()
    for line in differences:
        log.warning("reconciled: %s", line)
    log.info("reconciled with %s: %d difference(s)", venue.name, len(differences))
    core.flags.reconciling = False
    status("venue.reconciling", False, f"reconciled with {venue.name}")
    drain()


def _lot_key(trade: Trade) -> tuple[str, int, Decimal]:
    return trade.id, trade.units, trade.price


def reconcile(core: EngineCore, book: VenueSnapshot, venue: str) -> list[str]:
    """Emit the events that bring ``core`` to ``book``; returns the differences, in words."""
    differences: list[str] = []
    account = book.account.id
    venue_orders = {o.id: o for o in book.orders}
    for order in list(core.orders.for_account(account)):
        if order.id in venue_orders or order.status is OrderStatus.SUBMITTED:
            continue  # a submitted order's answer is still on its way
        core.emit(
            EventKind.ORDER_CANCELLED,
            "venue",
            {
                "order_id": order.id,
                "reason": f"not working at {venue} (reconciled)",
                "why": CancelWhy.RECONCILIATION.value,
                "requested_by": "auto",
            },
        )
        differences.append(f"order {order.id} is no longer working at {venue}")
    differences += _lots(core, book, venue)
    for order in book.orders:
        mine = core.orders.get(order.id)
        if order.instrument not in core.quotes.instruments:
            differences.append(f"order {order.id} on {order.instrument} is not followed here")
            continue
        if mine is None:
            if order.is_protective:
                trade = core.portfolio.find_trade(
                    order.account, order.instrument, order.trade_id or ""
                )
                if trade is not None and order.units == 0:
                    order = order.with_changes({"units": -trade.units})
            protective = order.is_protective
            kind = EventKind.PROTECTIVE_ORDER_CREATED if protective else EventKind.ORDER_ADOPTED
            core.emit(kind, "venue", {"order": to_wire(order)})
            differences.append(f"adopted {order.type.value.lower()} order {order.id} from {venue}")
        elif (order.price, abs(order.units) or abs(mine.units)) != (mine.price, abs(mine.units)):
            core.emit(
                EventKind.ORDER_MODIFIED,
                "venue",
                {
                    "order_id": mine.id,
                    "price": None if order.price is None else str(order.price),
                    "units": order.units or mine.units,
                    "venue_id": order.venue_id,
                },
            )
            differences.append(f"order {mine.id} changed at {venue}")
    acct = core.portfolio.accounts.get(account)
    if acct is not None and acct.balance != book.account.balance:
        core.emit(
            EventKind.ACCOUNT_SYNCED,
            "venue",
            {
                "account": account,
                "balance": str(book.account.balance),
                "was": str(acct.balance),
                "reason": "reconciled",
            },
        )
        differences.append(f"balance {acct.balance} -> {book.account.balance}")
    core.emit(
        EventKind.VENUE_RECONCILED,
        "venue",
        {"venue": venue, "differences": differences, "last_transaction_id": book.last_txn},
    )
    return differences


def _lots(core: EngineCore, book: VenueSnapshot, venue: str) -> list[str]:
    account = book.account.id
    theirs: dict[str, list[Trade]] = {}
    for trade in book.trades:
        theirs.setdefault(trade.instrument, []).append(trade)
    instruments = set(theirs) | {
        inst for (acct, inst), b in core.portfolio.books.items() if acct == account and b.trades
    }
    differences = []
    for instrument in sorted(instruments):
        if instrument not in core.quotes.instruments:
            differences.append(f"{instrument} is held at {venue} but not streamed here")
            continue
        mine = core.portfolio.books.get((account, instrument))
        my_lots = sorted((t.id, t.units, t.price) for t in (mine.trades if mine else []))
        their_lots = sorted(theirs.get(instrument, []), key=lambda t: t.id)
        if my_lots == [_lot_key(t) for t in their_lots]:
            continue
        was = sum(u for _, u, _ in my_lots)
        now = sum(t.units for t in their_lots)
        core.emit(
            EventKind.POSITION_SYNCED,
            "venue",
            {
                "account": account,
                "instrument": instrument,
                "trades": [to_wire(t) for t in their_lots],
                "was": was,
            },
        )
        differences.append(f"{instrument} position {was:+,} -> {now:+,} ({venue})")
    return differences
