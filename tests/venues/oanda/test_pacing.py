"""The request and connection pacer: a fake clock, so no timing is measured."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.oanda import TOKEN
from tmt_tui.venues.oanda.client import OandaClient, Token
from tmt_tui.venues.oanda.pacing import SlidingWindow
from tmt_tui.venues.oanda_sim.server import V20ServerThread


class FakeTime:
    """A clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def _window(per_s: float, fake: FakeTime) -> SlidingWindow:
    return SlidingWindow(per_s, clock=fake.clock, sleep=fake.sleep)


async def test_a_burst_up_to_the_limit_goes_out_at_once_then_waits_for_the_window() -> None:
    fake = FakeTime()
    pace = _window(90, fake)
    sent: list[float] = []

    for _ in range(200):
        await pace.acquire()
        sent.append(fake.now)

    assert sent[:90] == [1000.0] * 90
    for i in range(len(sent)):  # never more than 90 in any one-second window
        assert sum(1 for t in sent[i:] if t - sent[i] < 1.0) <= 90
    assert sent[-1] - sent[0] >= 2.0  # 200 grants at 90/s span at least two windows


async def test_two_connections_a_second_are_spaced_across_concurrent_callers() -> None:
    fake = FakeTime()
    pace = _window(2.0, fake)
    sent: list[float] = []

    async def connect() -> None:
        await pace.acquire()
        sent.append(fake.now)

    await asyncio.gather(*(connect() for _ in range(6)))

    assert sorted(sent) == [1000.0, 1000.0, 1001.0, 1001.0, 1002.0, 1002.0]
    assert pace.waits >= 2


async def test_a_fractional_rate_spaces_single_grants() -> None:
    fake = FakeTime()
    pace = _window(0.5, fake)

    await pace.acquire()
    await pace.acquire()

    assert fake.now == 1002.0


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SlidingWindow(0)


async def test_the_client_paces_its_rest_requests(server: V20ServerThread) -> None:
    """Real requests through the client, on a fake clock: 25 at 10/s span two waits."""
    async with OandaClient(
        account_id=server.account_id, token=Token(TOKEN), rest_url=server.url
    ) as client:
        fake = FakeTime()
        client.request_pace = SlidingWindow(10, clock=fake.clock, sleep=fake.sleep)
        for _ in range(25):
            await client.summary()

    assert fake.now == 1002.0 and client.request_pace.waits == 2


def test_the_client_defaults_stay_below_oandas_limits() -> None:
    client = OandaClient(account_id="x", token=Token(TOKEN), rest_url="http://127.0.0.1:9")

    assert (client.request_pace.n, client.request_pace.window) == (90, 1.0)
    assert (client.connect_pace.n, client.connect_pace.window) == (2, 1.0)


async def test_the_client_paces_stream_connections(server: V20ServerThread) -> None:
    async with OandaClient(
        account_id=server.account_id,
        token=Token(TOKEN),
        rest_url=server.url,
        max_connects_per_s=1000,
    ) as client:
        fake = FakeTime()
        client.connect_pace = SlidingWindow(2.0, clock=fake.clock, sleep=fake.sleep)
        for _ in range(5):
            async for _message in client.stream_prices(["EUR_USD"]):
                break

    assert fake.now == 1002.0  # five connections at two a second: two full waits
