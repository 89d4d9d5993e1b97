"""A real engine (EngineRunner thread, sim venue, tmp journal) watched by a real Monitoring."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

from tests.engine.engines import INSTRUMENTS, fixed_clock
from tests.engine.engines import engine_settings as engine_settings  # one sim set-up
from tmt_tui.cli.embedded import engine_runner
from tmt_tui.config import Settings
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.orders import OrderType
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.engine.runner import EngineRunner
from tmt_tui.monitoring.alerts import AlertSink
from tmt_tui.monitoring.service import Monitoring
from tmt_tui.monitoring.settings import MonitoringSettings

from .helpers import eventually


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
