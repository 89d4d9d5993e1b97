"""Chaos on the wire: streams and sockets cut every few seconds, replies delayed, bursts of 5xx and
429, keep-alive sockets closed, orders booked whose answers are lost, transactions lost from the
stream, and long outages of both streams, all at once and in a seeded random order, while tmt
trades and orders also arrive from outside it. Afterwards: no crash, no duplicate, no lost order,
no gap left unread, and what the engine said about its streams was true (see ``wire.py``).

The short run is part of `make test`; the long one is a soak (`make soak`, or
`TMT_CHAOS_S=600 make soak` for ten minutes). `TMT_CHAOS_SEED` replays a schedule.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.wire import (
    INSTRUMENTS,
    SETTLE_S,
    WatchedEngine,
    WireChaos,
    agreement,
    chaos_settings,
    fills_booked,
    history_gaps,
    order_fates,
    unexpected_logs,
)
from tests.support.oanda import TOKEN
from tests.support.pilot import board_ready, main_screen, screen_text, until
from tests.support.tally import add
from tests.support.waiting import wait_for
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.widgets.header import AccountHeader
from tmt_tui.venues.oanda_sim.server import V20ServerThread

SEED = int(os.environ.get("TMT_CHAOS_SEED", "0")) or None
SHORT_S = 10.0
SOAK_S = float(os.environ.get("TMT_CHAOS_S", "180"))
OUTAGE_EVERY_S = 30.0

pytestmark = [
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture
def server() -> Iterator[V20ServerThread]:
    with V20ServerThread(token=TOKEN, tick_interval=0.02, heartbeat_interval=0.2) as running:
        yield running


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OANDA_TOKEN", TOKEN)


def survive(
    seconds: float,
    outages: int,
    seed: int,
    server: V20ServerThread,
    journal: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Trade through ``seconds`` of chaos, calm the wire, and check everything that must hold."""
    caplog.set_level(logging.WARNING)
    engine = WatchedEngine(chaos_settings(server, journal))
    chaos = WireChaos(seed, server, engine)
    problems: list[str] = []
    try:
        wait_for(lambda: engine.live() and all(engine.core.quotes.get(i) for i in INSTRUMENTS))
        start = engine.venue.mapper.cursor
        chaos.run(seconds, outages)
        chaos.calm()
        last: list[str] = []  # what disagreed when last asked

        def agrees() -> bool:
            last[:] = agreement(engine, server)
            return not last

        with contextlib.suppress(AssertionError):  # ``last`` says what disagrees
            wait_for(agrees, "agreement", within=SETTLE_S)
        problems += last
        # still alive: the transaction stream books an outside fill, the feed brings prices
        units = engine.position("EUR_USD")
        ts = engine.core.quotes.get("EUR_USD").ts
        server.call(lambda s: s.outside_market_order("EUR_USD", 100))
        with contextlib.suppress(AssertionError):
            wait_for(lambda: engine.position("EUR_USD") == units + 100, within=SETTLE_S)
            wait_for(lambda: engine.core.quotes.get("EUR_USD").ts > ts, within=SETTLE_S)
        if engine.position("EUR_USD") != units + 100:
            problems.append("the transaction stream no longer books fills")
        if engine.core.quotes.get("EUR_USD").ts <= ts:
            problems.append("no new price after the chaos")
        if not engine.runner.running:
            problems.append("the engine stopped")
        gaps = history_gaps(engine, server, start)
        if gaps:
            problems.append(f"transactions never read: {gaps}")
        tag = engine.venue.mapper.tag
        reconnects = engine.venue.stream_connects - 1 + engine.venue.feed.connects - 1
    finally:
        engine.stop()
    figures = chaos.figures
    problems += order_fates(chaos, journal, tag)
    problems += fills_booked(journal, server, start)
    problems += unexpected_logs(caplog.records)
    socket_cuts = figures.faults["swallow"] + figures.faults["cut_reply"]
    add("chaos", rounds=figures.rounds, orders=figures.orders, drops=reconnects + socket_cuts)
    print(
        chaos.say(
            f"{seconds:.0f}s: {figures.rounds} rounds, {figures.orders} orders acknowledged, "
            f"refused {dict(figures.refused)}, {figures.outside} outside, {figures.stream_cuts} "
            f"streams cut, {reconnects} stream reconnects, faults {dict(figures.faults)}, "
            f"{figures.outages} outage(s)"
        )
    )
    assert not problems, chaos.say("\n  ".join(["tmt did not come through:", *problems]))
    assert figures.orders > 0 and figures.outside > 0 and reconnects > 0, chaos.say("no chaos")


def seed_for_run() -> int:
    return SEED if SEED is not None else time.time_ns() % 1_000_000


def test_tmt_comes_through_a_few_seconds_of_chaos_on_the_wire(
    server: V20ServerThread, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    survive(SHORT_S, 1, seed_for_run(), server, tmp_path / "journal.db", caplog)


@pytest.mark.soak
def test_tmt_comes_through_minutes_of_chaos_on_the_wire(
    server: V20ServerThread, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outages = max(1, int(SOAK_S // OUTAGE_EVERY_S))
    survive(SOAK_S, outages, seed_for_run(), server, tmp_path / "journal.db", caplog)


def header_status(app: TmtApp) -> str:
    """The connection status the header shows (the engine's, and its venue's when not well)."""
    return main_screen(app).query_one(AccountHeader).state.status


async def test_the_header_says_the_venue_stream_is_down_during_a_cut_and_live_after(
    server: V20ServerThread, tmp_path: Path
) -> None:
    client = start_embedded(chaos_settings(server, tmp_path / "journal.db"))
    try:
        app = create_app(client.runner.settings, client)
        async with app.run_test(size=(160, 40)) as pilot:
            await until(pilot, lambda: board_ready(app), "a quote for every instrument")
            await until(pilot, lambda: header_status(app) == "live", "the header says live")

            server.call(lambda s: setattr(s.faults, "streams_down", True))
            server.call(lambda s: s.cut_streams())

            await until(
                pilot, lambda: header_status(app) == "live · venue stream down", "it says down"
            )
            await until(pilot, lambda: "venue stream down" in screen_text(app), "on screen")
            server.call(lambda s: setattr(s.faults, "streams_down", False))
            await until(pilot, lambda: header_status(app) == "live", "it says live again")
            await until(pilot, lambda: "venue stream down" not in screen_text(app), "cleared")
    finally:
        server.call(lambda s: setattr(s.faults, "streams_down", False))
        await client.close()
