"""The bus never blocks the engine: events queue without gaps, state and quotes conflate to the
latest value, and a subscriber that falls too far behind starts again from a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal

from tests.support.harness import T0, Harness
from tmt_tui.domain.client import Snapshot, Update
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.orders import Order, OrderStatus, OrderType
from tmt_tui.domain.quotes import Quote
from tmt_tui.engine.bus import Bus, Mailbox

D = Decimal


def event(seq: int) -> Event:
    return Event(seq, T0, EventKind.KILL_SWITCH_RESET, "ui", {})


def a_snapshot() -> Snapshot:
    return Harness().core.snapshot(T0)


async def subscribed(max_events: int = 100) -> tuple[Bus, Mailbox, Snapshot]:
    bus, mailbox, snap = Bus(), Mailbox(asyncio.get_running_loop(), max_events), a_snapshot()
    bus.add(mailbox, snap)
    return bus, mailbox, snap


async def test_subscriber_starts_from_a_snapshot() -> None:
    _, mailbox, snap = await subscribed()

    assert await mailbox.get() == snap


async def test_events_arrive_in_order_without_gaps() -> None:
    bus, mailbox, _ = await subscribed()
    await mailbox.get()

    bus.publish([event(4), event(5)], [], [], [])
    bus.publish([event(6)], [], [], [])
    item = await mailbox.get()

    assert isinstance(item, Update)
    assert ([e.seq for e in item.events], item.seq) == ([4, 5, 6], 6)


async def test_order_updates_conflate_to_the_latest_version() -> None:
    bus, mailbox, _ = await subscribed()
    await mailbox.get()
    working = Order("O1", "SIM-USD", "EUR_USD", 1_000, OrderType.LIMIT, OrderStatus.WORKING,
                    price=D("1.09000"))  # fmt: skip
    cancelled = dataclasses.replace(working, status=OrderStatus.CANCELLED)

    bus.publish([event(1)], [working], [], [])
    bus.publish([event(2)], [cancelled], [], [])
    item = await mailbox.get()

    assert isinstance(item, Update) and item.orders == (cancelled,)


async def test_quotes_conflate_to_the_latest_per_instrument() -> None:
    bus, mailbox, _ = await subscribed()
    await mailbox.get()
    latest = Quote("EUR_USD", D("1.10002"), D("1.10012"), T0 + 2)

    bus.quote(Quote("EUR_USD", D("1.10000"), D("1.10010"), T0 + 1))
    bus.quote(latest)
    item = await mailbox.get()

    assert isinstance(item, Update) and item.quotes == (latest,)


async def test_subscriber_that_falls_behind_is_reported_for_a_fresh_snapshot() -> None:
    bus, mailbox, _ = await subscribed(max_events=3)
    await mailbox.get()
    bus.publish([event(1), event(2)], [], [], [])

    behind = bus.publish([event(3), event(4)], [], [], [])

    assert behind == [mailbox]


async def test_fresh_snapshot_replaces_everything_a_slow_subscriber_had_queued() -> None:
    bus, mailbox, _ = await subscribed(max_events=3)
    await mailbox.get()
    bus.publish([event(1), event(2)], [], [], [])
    fresh = dataclasses.replace(a_snapshot(), seq=4)

    for slow in bus.publish([event(3), event(4)], [], [], []):
        slow.put_snapshot(fresh)  # what the runner does for each mailbox reported behind
    item = await mailbox.get()

    assert item == fresh
    assert mailbox.events == []
