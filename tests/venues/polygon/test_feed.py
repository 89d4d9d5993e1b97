"""The Polygon / Massive feed against real servers on loopback: `tmt polygon-sim` (the whole
protocol on the simulated market) and bare `websockets` servers written here (one protocol
path each: slow consumer, a refused connection, a frame split across reads)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.support.waiting import eventually
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.quotes import Quote, quote_problem
from tmt_tui.domain.secret import Secret
from tmt_tui.venues.polygon.feed import PolygonFeed
from tmt_tui.venues.polygon.frames import Bar, Trade
from tmt_tui.venues.polygon.symbols import Topics
from tmt_tui.venues.polygon_sim.server import Faults, PolygonSim, PolygonSimServer, start

KEY = "pk-test-3f9a1c77e2b84d51"  # distinctive: found anywhere it should not be


def instrument(name: str) -> Instrument:
    return Instrument(name, 5, -4, Decimal("0.05"))


class Run:
    """A feed running in a task, with everything it said."""

    def __init__(self, feed: PolygonFeed) -> None:
        self.feed = feed
        self.quotes: list[Quote] = []
        self.task = asyncio.create_task(feed.run(self.quotes.append))

    def seen(self, name: str) -> int:
        return sum(1 for q in self.quotes if q.instrument == name)

    async def stop(self) -> None:
        self.feed.stop()
        await asyncio.wait_for(asyncio.gather(self.task, return_exceptions=True), 10)


class Said:
    """What a feed reported: statuses (alert key, active, message) and trades/bars."""

    def __init__(self) -> None:
        self.statuses: list[tuple[str, bool, str]] = []
        self.messages: list[Trade | Bar] = []

    def status(self, key: str, active: bool, message: str) -> None:
        self.statuses.append((key, active, message))


def feed_on(port: int, names: list[str], said: Said, key: str = KEY, **kw: Any) -> PolygonFeed:
    return PolygonFeed(
        Secret(key),
        [instrument(n) for n in names],
        host=f"127.0.0.1:{port}",
        secure=False,
        backoff=(0.02, 0.1),
        on_status=said.status,
        on_message=said.messages.append,
        **kw,
    )


@pytest.fixture
async def sim_factory() -> AsyncIterator[Callable[..., Any]]:
    servers: list[PolygonSimServer] = []

    async def make(faults: Faults | None = None, tps: float = 50.0) -> PolygonSimServer:
        server = await start(PolygonSim(Secret(KEY), ticks_per_second=tps, faults=faults))
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()


async def test_quotes_trades_and_bars_of_every_cluster_flow_after_auth_and_subscribe(
    sim_factory: Callable[..., Any],
) -> None:
    sim = await sim_factory()
    said = Said()
    run = Run(feed_on(sim.port, ["EUR_USD", "AAPL", "BTC_USD"], said,
                      topics=Topics(trades=True, bars="second")))  # fmt: skip
    try:
        await eventually(lambda: all(run.seen(n) >= 5 for n in ("EUR_USD", "AAPL", "BTC_USD")))
        await eventually(lambda: {type(m) for m in said.messages} == {Trade, Bar}, within=15)
    finally:
        await run.stop()

    assert run.feed.stats.refused == 0
    assert all(quote_problem(q.bid, q.ask) is None for q in run.quotes)
    # JSON numbers (1.0851) written to the instrument's decimals (1.08510), as a venue's are
    assert {q.bid.as_tuple().exponent for q in run.quotes} == {-5}
    assert {m.instrument for m in said.messages if isinstance(m, Trade)} == {"AAPL", "BTC_USD"}
    assert ("polygon-down:forex", False, "Polygon/Massive forex live") in said.statuses


async def test_a_refused_key_is_said_once_and_never_retried(
    sim_factory: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim = await sim_factory()
    said = Said()
    feed = feed_on(sim.port, ["EUR_USD"], said, key="wrong-key-not-ours")

    await asyncio.wait_for(feed.run(lambda q: None), 10)  # returns: nothing to retry

    assert feed.state == {"forex": "auth_failed"}
    assert sim.sim.connections == 1
    assert [s for s in said.statuses if s[1]] == [(
        "polygon-auth:forex", True,
        "Polygon/Massive refused the API key on forex: authentication failed",
    )]  # fmt: skip
    assert "wrong-key-not-ours" not in caplog.text


async def test_the_key_is_never_logged_even_at_debug(
    sim_factory: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim = await sim_factory(Faults(drop_every=0.2))
    run = Run(feed_on(sim.port, ["EUR_USD"], Said()))
    try:
        await eventually(lambda: run.feed.stats.drops >= 1 and run.seen("EUR_USD") >= 3)
    finally:
        await run.stop()

    assert KEY not in caplog.text
    assert KEY not in repr(run.feed.__dict__)


async def test_dropped_connections_are_said_retried_and_subscribed_again(
    sim_factory: Callable[..., Any],
) -> None:
    sim = await sim_factory(Faults(drop_every=0.3))
    said = Said()
    run = Run(feed_on(sim.port, ["EUR_USD", "AAPL"], said))
    try:
        await eventually(lambda: run.feed.stats.drops >= 3)
        after_drops = len(run.quotes)
        await eventually(lambda: run.seen("EUR_USD") and len(run.quotes) > after_drops + 10)
    finally:
        await run.stop()

    downs = [s for s in said.statuses if s[0] == "polygon-down:forex"]
    assert [active for _, active, _ in downs[:4]] == [False, True, False, True]  # live, down...
    assert "reconnecting" in downs[1][2]
    assert run.feed.stats.connects >= 4


async def test_garbage_nan_negative_and_crossed_frames_never_reach_the_engine(
    sim_factory: Callable[..., Any],
) -> None:
    sim = await sim_factory(Faults(garbage_every=3, bad_every=2, fragment=True))
    run = Run(feed_on(sim.port, ["EUR_USD", "AAPL", "BTC_USD"], Said()))
    try:
        await eventually(lambda: run.feed.stats.refused >= 20 and len(run.quotes) >= 50)
    finally:
        await run.stop()

    assert all(quote_problem(q.bid, q.ask) is None for q in run.quotes)
    assert run.feed.stats.drops == 0  # bad data is refused, not a reason to reconnect


async def test_a_newer_connection_with_the_same_key_takes_over_and_the_older_says_why(
    sim_factory: Callable[..., Any],
) -> None:
    sim = await sim_factory()
    first_said, second_said = Said(), Said()
    first = Run(feed_on(sim.port, ["EUR_USD"], first_said, max_connections_backoff=60))
    try:
        await eventually(lambda: first.seen("EUR_USD") >= 1)
        second = Run(feed_on(sim.port, ["EUR_USD"], second_said))
        try:
            await eventually(lambda: first.feed.state.get("forex") == "down")
            await eventually(lambda: second.seen("EUR_USD") >= 3)
        finally:
            await second.stop()
    finally:
        await first.stop()

    down = [m for k, active, m in first_said.statuses if active]
    assert down and "max_connections" in down[0]


# bare servers, one protocol path each ------------------------------------------------------


def greet_and_auth(ws: ServerConnection) -> Any:
    async def run() -> None:
        await ws.send(json.dumps([{"ev": "status", "status": "connected", "message": "hi"}]))
        await ws.recv()  # auth
        await ws.send(json.dumps([{"ev": "status", "status": "auth_success", "message": "ok"}]))
        await ws.recv()  # subscribe

    return run()


def quote_event(i: int) -> dict[str, Any]:
    return {"ev": "C", "p": "EUR/USD", "a": 1.0851 + i * 1e-5, "b": 1.085 + i * 1e-5, "t": 17e11}


SLOW = "Client is not consuming fast enough"


async def test_a_slow_consumer_close_is_said_and_retried() -> None:
    connections = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await greet_and_auth(ws)
        await ws.send(json.dumps([quote_event(connections)]))
        if connections == 1:
            slow = {"ev": "status", "status": "slow_consumer", "message": SLOW}
            await ws.send(json.dumps([slow]))
            await ws.close()
            return
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        said = Said()
        run = Run(feed_on(port, ["EUR_USD"], said))
        try:
            await eventually(lambda: connections == 2 and run.seen("EUR_USD") == 2)
        finally:
            await run.stop()

    down = [m for _, active, m in said.statuses if active]
    assert down == [
        "Polygon/Massive forex down (slow_consumer: Client is not consuming fast enough); "
        "reconnecting"
    ]


async def test_a_frame_split_across_reads_is_one_frame() -> None:
    async def handler(ws: ServerConnection) -> None:
        await greet_and_auth(ws)
        text = json.dumps([quote_event(i) for i in range(50)])
        await ws.send(iter([text[:7], text[7:300], text[300:]]))  # three fragments
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        run = Run(feed_on(server.sockets[0].getsockname()[1], ["EUR_USD"], Said()))
        try:
            await eventually(lambda: run.seen("EUR_USD") == 50)
        finally:
            await run.stop()

    assert run.feed.stats.frames == 1 and run.feed.stats.refused == 0


async def test_a_refused_connection_is_retried_until_the_server_is_there() -> None:
    async def handler(ws: ServerConnection) -> None:
        await greet_and_auth(ws)
        await ws.send(json.dumps([quote_event(0)]))
        await ws.wait_closed()

    probe = await serve(handler, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    said = Said()
    run = Run(feed_on(port, ["EUR_USD"], said))
    try:
        await eventually(lambda: run.feed.stats.drops >= 2)  # refused, and refused again
        assert run.feed.stale() == {"EUR_USD"}
        async with serve(handler, "127.0.0.1", port):
            await eventually(lambda: run.seen("EUR_USD") == 1)
            assert run.feed.stale() == set()
    finally:
        await run.stop()

    assert "ConnectionRefusedError" in said.statuses[0][2] or "Errno" in said.statuses[0][2]
