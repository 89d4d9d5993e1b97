"""Recorded ticks for the replay tests, and a replay engine to play them through.

A recording is a CSV written from a seeded sim market (lively enough that limits, take-profits
and stop-losses are reached within a few hundred ticks), on a clock that starts at ``T0``.
A replay engine is the one `tmt replay` builds (``replay_settings``, ``build_replay_venue``,
an ``EngineRunner`` on the venue's clock), in this process, paused once every instrument has
a price, so a test places its orders before the market moves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.support.engines import engine_settings, journal_events
from tests.support.harness import T0
from tests.support.waiting import eventually
from tmt_tui.cli.replay import replay_settings
from tmt_tui.domain.commands import ControlReplay, SubmitOrder
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import OrderType
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.replay import ReplayProgress
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.engine.runner import EngineRunner
from tmt_tui.venues.factory import build_replay_venue
from tmt_tui.venues.replay.feed import ReplayFeed
from tmt_tui.venues.replay.source import read_csv
from tmt_tui.venues.sim.market import SimMarket

PAIRS = ("EUR_USD", "GBP_USD", "USD_JPY")
D = Decimal


def write_ticks(path: Path, count: int = 1200, step_s: float = 0.02, seed: int = 3) -> list[Quote]:
    """``count`` ticks, ``step_s`` apart, of a lively seeded market, as a `tmt replay` CSV
    (``ts,instrument,bid,ask``); returns them in order."""
    now = [T0]
    market = SimMarket(PAIRS, seed=seed, volatility_scale=25.0, clock=lambda: now[0])
    rng = random.Random(seed)
    quotes = [market.quote(name) for name in PAIRS]
    while len(quotes) < count:
        now[0] += step_s
        quotes.append(market.step(rng.choice(PAIRS)))
    quotes = [dataclasses.replace(q, ts=round(q.ts, 3)) for q in quotes]  # as the CSV says
    lines = ["ts,instrument,bid,ask"]
    lines += [f"{q.ts:.3f},{q.instrument},{q.bid},{q.ask}" for q in quotes]
    path.write_text("\n".join(lines) + "\n")
    return quotes


class Replay:
    """A replay engine in this process, its client, and where it writes."""

    def __init__(self, runner: EngineRunner, feed: ReplayFeed, out: Path) -> None:
        self.runner = runner
        self.feed = feed
        self.out = out
        self.client = LocalEngineClient(runner, owns_engine=True)

    @property
    def progress(self) -> ReplayProgress:
        return self.feed.progress()

    def quote(self, name: str) -> Quote:
        """The engine's latest quote of ``name``: the last one replayed."""
        return self.runner.core.quotes.quotes[name]  # type: ignore[union-attr]

    async def play_to_the_end(self) -> None:
        reply = await self.client.execute(ControlReplay("resume"))
        assert reply.ok, reply
        await eventually(lambda: self.progress.finished, "the replay to finish", within=60)

    def fills(self) -> list[tuple[Any, ...]]:
        """Every fill the replay journaled: (order, units, price, time), in order."""
        return [
            (e["order_id"], e["units"], e["price"], e["ts"])
            for e in journal_events(self.out, EventKind.ORDER_FILLED)
        ]


@contextlib.asynccontextmanager
async def replaying(
    csv: Path, out: Path, speed: float = 0.0, *, start_paused: bool = True
) -> AsyncIterator[Replay]:
    """A replay engine on ``csv`` writing ``out``; paused at the first prices; stopped (its
    journal flushed) on the way out."""
    recording = read_csv(csv)
    settings = replay_settings(engine_settings(out.with_name("live.db")), out, recording)
    venue = build_replay_venue(recording, speed, start_paused=start_paused)
    runner = EngineRunner(settings, venue, venue.clock)
    runner.start()
    replay = Replay(runner, venue.feed, out)
    try:
        if start_paused:
            await eventually(lambda: replay.progress.paused, "the first prices")
        yield replay
    finally:
        await replay.client.close()


def a_day_of_orders(replay: Replay) -> list[SubmitOrder]:
    """Orders placed at the first prices that the lively market then fills: a protected market
    buy, limits either side of the market, a stop, on each pair."""
    orders = []
    for name in PAIRS:
        quote = replay.quote(name)
        pip = D("0.01") if name.endswith("JPY") else D("0.0001")
        mid = quote.mid.quantize(pip / 10)
        orders += [
            SubmitOrder(
                "SIM-USD", name, 10_000, take_profit=mid + 6 * pip, stop_loss=mid - 6 * pip
            ),
            SubmitOrder("SIM-USD", name, 5_000, OrderType.LIMIT, mid - 3 * pip),
            SubmitOrder("SIM-USD", name, -5_000, OrderType.LIMIT, mid + 3 * pip),
            SubmitOrder("SIM-EUR", name, -7_000, OrderType.STOP, mid - 4 * pip),
        ]
    return orders
