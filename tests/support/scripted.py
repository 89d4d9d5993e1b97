"""An EngineClient over the deterministic harness: the real engine core, a paper broker and a
clock that only moves by hand, with no thread, no journal and no feed.

Snapshot tests need a workstation whose every figure is the same on every run: this client
serves the core's own snapshot (real orders, positions, accounts, events at the harness's
fixed time) and answers each command by applying it to the core at once, so a ticket's
dry-run preview is the engine's own verdict. `stopped()` is an engine that has gone: its
stream ends after the first snapshot and every later subscribe fails, as after `tmt stop`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from tests.support.harness import Harness
from tmt_tui.analytics.summary import AnalyticsReport
from tmt_tui.domain.client import Reply, StreamItem
from tmt_tui.domain.commands import Command, QueryAnalytics, QueryBars
from tmt_tui.domain.reasons import Reason
from tmt_tui.engine.analytics_query import analyse, holdings_of
from tmt_tui.engine.bars_query import candles_of
from tmt_tui.venues.sim.history import SimPast


class HarnessClient:
    """The EngineClient protocol on a `Harness`; every reply and item is computed on the UI loop."""

    read_only = False

    def __init__(self, harness: Harness, *, stops_after_snapshot: bool = False) -> None:
        self.harness = harness
        self._stops = stops_after_snapshot
        self._served = False
        self._subscribers: list[asyncio.Queue[StreamItem]] = []

    async def execute(self, command: Command) -> Reply:
        if isinstance(command, QueryAnalytics):
            return self._analytics(command)
        if isinstance(command, QueryBars):
            return self._bars(command)
        before = len(self.harness.events)
        reply = self.harness.core.outcome(self.harness.do(command))
        if len(self.harness.events) > before:  # it changed something: the whole new picture
            picture = self.harness.core.snapshot(self.harness.clock())
            for queue in self._subscribers:
                queue.put_nowait(picture)
        return reply

    def _analytics(self, query: QueryAnalytics) -> Reply:
        """The engine's analytics with no equity history (the harness keeps no journal): the
        holdings and exposure of the positions, and "no data yet" for the curves."""
        core, currency = self.harness.core, self.harness.settings.engine.report_currency
        holdings = holdings_of(core.portfolio, currency)
        trades = tuple(core.state.closed_trades)
        accounts = analyse([], query, trades, holdings, currency)
        report = AnalyticsReport(accounts, self.harness.clock())
        return Reply(True, "OK", f"analytics for {len(accounts)} account(s)", payload=report)

    def _bars(self, query: QueryBars) -> Reply:
        """Candles from the sim's own seeded past, leading into each pair's quote now (what the
        sim venue backfills a new journal with), so a chart has the same candles every run."""
        mids = {
            q.instrument: float((q.bid + q.ask) / 2)
            for q in self.harness.core.quotes.quotes.values()
        }
        past = SimPast(7, self.harness.clock(), mids)
        bars = past.bars(query.instrument, query.size, query.count)
        candles = candles_of(query, bars, (), None)
        return Reply(True, "OK", f"{len(candles)} bars", payload=candles)

    async def subscribe(self) -> AsyncIterator[StreamItem]:
        if self._stops and self._served:
            raise ConnectionError(f"{Reason.ENGINE_STOPPED.value}: the engine is not running")
        self._served = True
        yield self.harness.core.snapshot(self.harness.clock())
        if self._stops:
            return
        queue: asyncio.Queue[StreamItem] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.remove(queue)

    async def close(self) -> None:
        return None
