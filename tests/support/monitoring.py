"""What the monitoring tests share: a hand-moved clock, account and event factories, HTTP and
scrape readers, and a real engine (EngineRunner thread, sim venue, tmp journal) watched by a
real Monitoring."""

from __future__ import annotations

import contextlib
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tmt_tui.cli.embedded import engine_runner
from tmt_tui.config import Settings
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.orders import OrderType
from tmt_tui.domain.positions import AccountState, TradingState
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.engine.runner import EngineRunner
from tmt_tui.monitoring.alerts import AlertSink
from tmt_tui.monitoring.service import Monitoring
from tmt_tui.monitoring.settings import MonitoringSettings

from .engines import INSTRUMENTS, fixed_clock
from .harness import Clock
from .waiting import eventually

D = Decimal


class FakeClock(Clock):
    """A monotonic clock the test moves by hand: the harness's Clock, starting at 1000 s."""

    def __init__(self, now: float = 1000.0) -> None:
        super().__init__(now)


def account(
    id: str = "SIM-USD",
    currency: str = "USD",
    *,
    balance: str = "100000",
    unrealized: str = "0",
    margin: str = "0",
    day_start: str = "100000",
    state: TradingState = TradingState.ACTIVE,
    working: int = 0,
    limit: str = "5000",
) -> AccountState:
    return AccountState(
        id=id,
        currency=currency,
        balance=D(balance),
        unrealized_pl=D(unrealized),
        realized_pl=D(0),
        margin_used=D(margin),
        day_start_equity=D(day_start),
        gross_exposure=D(0),
        trading_state=state,
        state_reason="",
        working_orders=working,
        daily_loss_limit=D(limit),
        max_leverage=D(30),
        daily_loss_breached=False,
    )


def event(kind: EventKind, seq: int = 1, **data: Any) -> Event:
    return Event(seq, 0.0, kind, "test", data)


def submitted(order_id: str, order_type: str = "MARKET") -> Event:
    return event(EventKind.ORDER_SUBMITTED, order={"id": order_id, "type": order_type})


def rejected(code: str, order_id: str = "O9") -> Event:
    return event(EventKind.ORDER_REJECTED, order={"id": order_id}, code=code, source="risk")


def filled(order_id: str) -> Event:
    return event(EventKind.ORDER_FILLED, order_id=order_id, fill_id=f"F{order_id}", units=1)


def http_get(url: str, accept: str = "") -> tuple[int, str, dict[str, str]]:
    """Status, body and headers of a GET; an error status is an answer, not an exception."""
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


Scraped = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Scraped:
    """Every sample of an exposition, keyed by name and label set."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped: Scraped, name: str, **labels: str) -> float | None:
    return scraped.get((name, frozenset(labels.items())))


# a real engine, watched ---------------------------------------------------------------------


@dataclass
class Watched:
    runner: EngineRunner
    client: LocalEngineClient
    monitoring: Monitoring

    @property
    def url(self) -> str:
        assert self.monitoring.server is not None
        return self.monitoring.server.url


@contextlib.asynccontextmanager
async def watched_engine(
    settings: Settings,
    monitoring: MonitoringSettings | None = None,
    on_alert: AlertSink | None = None,
    engine_running: bool = True,
) -> AsyncIterator[Watched]:
    """An engine with its metrics served on a free loopback port, as the CLI wires it."""
    watch = Monitoring(
        monitoring or MonitoringSettings(metrics_port=0), on_alert, instruments=INSTRUMENTS
    )
    runner = engine_runner(settings, fixed_clock, observer=watch.observer)
    runner.start()
    client = LocalEngineClient(runner)
    try:
        watch.serve(engine_running=(lambda: runner.running) if engine_running else None)
        book = runner.core.quotes  # type: ignore[union-attr]
        await eventually(lambda: all(name in book.quotes for name in INSTRUMENTS))
        yield Watched(runner, client, watch)
    finally:
        await client.close()
        watch.close()


async def trade(client: LocalEngineClient, fills: int) -> dict[str, int]:
    """``fills`` filled market orders, a resting limit and a rejected order; counts by outcome."""
    for _ in range(fills):
        reply = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))
        assert reply.ok and reply.message.startswith("filled"), reply
    bid = client.runner.core.quotes.quotes["EUR_USD"].bid  # type: ignore[union-attr]
    far = (bid * Decimal("0.97")).quantize(Decimal("0.00001"))
    resting = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000, OrderType.LIMIT, far))
    assert resting.ok, resting
    refused = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 0))
    assert (refused.ok, refused.code) == (False, "INVALID_UNITS"), refused
    return {"MARKET": fills, "LIMIT": 1, "INVALID_UNITS": 1}
