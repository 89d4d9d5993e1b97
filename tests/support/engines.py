"""Real engines for integration tests: an embedded EngineRunner thread on a tmp journal with a
fixed clock, a short session to trade on it, and the journal read from outside."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import Settings, load_settings
from tmt_tui.domain.client import Snapshot
from tmt_tui.domain.commands import ClosePosition, SubmitOrder
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import OrderType
from tmt_tui.engine.local_client import LocalEngineClient

from .harness import T0
from .waiting import eventually

D = Decimal
INSTRUMENTS = ("EUR_USD", "GBP_USD", "USD_JPY")


def fixed_clock() -> float:
    """Wall time frozen on a quiet Wednesday: no rollover can happen in the middle of a test."""
    return T0


def engine_settings(journal: Path, **kill_switch: Any) -> Settings:
    base = load_settings()
    return dataclasses.replace(
        base,
        # no history backfill: ~10 MB of bars written at every first start, which tests that do
        # not look at a chart only wait behind (tests/tui/test_candle_chart.py turns it on)
        engine=dataclasses.replace(base.engine, journal_path=str(journal), backfill_bars=0),
        sim=dataclasses.replace(base.sim, instruments=INSTRUMENTS),
        kill_switch=dataclasses.replace(base.kill_switch, **kill_switch),
    )


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[LocalEngineClient]:
    """An embedded engine with a quote for every instrument; stopped cleanly on the way out."""
    client = start_embedded(settings, clock=fixed_clock)
    try:
        book = client.runner.core.quotes  # type: ignore[union-attr]
        await eventually(lambda: all(name in book.quotes for name in INSTRUMENTS), "first quotes")
        yield client
    finally:
        await client.close()


async def snapshot(client: LocalEngineClient) -> Snapshot:
    """The first item of a fresh subscription: the whole picture, taken on the engine thread."""
    stream = client.subscribe()
    try:
        item = await anext(stream)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]  # an async generator underneath
    assert isinstance(item, Snapshot), item
    return item


# a session worth restarting ---------------------------------------------------------------------


async def trade_a_little(client: LocalEngineClient) -> dict[str, str]:
    """A protected market buy, a resting limit, a partial close and a position in EUR."""
    quotes = client.runner.core.quotes.quotes  # type: ignore[union-attr]
    market = await client.execute(
        SubmitOrder("SIM-USD", "EUR_USD", 10_000, take_profit=D("2.00000"), stop_loss=D("0.50000"))
    )
    resting_price = (quotes["GBP_USD"].bid * D("0.97")).quantize(D("0.00001"))
    resting = await client.execute(
        SubmitOrder("SIM-USD", "GBP_USD", 5_000, OrderType.LIMIT, resting_price)
    )
    closed = await client.execute(ClosePosition("SIM-USD", "EUR_USD", units=4_000))
    euro = await client.execute(SubmitOrder("SIM-EUR", "USD_JPY", -20_000))
    for reply in (market, resting, closed, euro):
        assert reply.ok, reply
    return {"market": market.order_id or "", "resting": resting.order_id or ""}


def lasting_state(snap: Snapshot) -> dict[str, Any]:
    """Everything a restart must restore; marks (unrealized, margin) move with the market."""
    return {
        "seq": snap.seq,
        "trading_day": snap.trading_day,
        "kill": (snap.kill_switch_engaged, snap.kill_switch_reason),
        "orders": {o.id: o for o in snap.orders},
        "positions": {
            p.key: dataclasses.replace(p, unrealized_pl=D(0), margin_used=D(0))
            for p in snap.positions
        },
        "accounts": {
            a.id: dataclasses.replace(a, unrealized_pl=D(0), margin_used=D(0), gross_exposure=D(0))
            for a in snap.accounts
        },
    }


# the journal, read from outside ----------------------------------------------------------------


def journal_rows(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the journal from a separate read-only connection, as another process would."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def events_of(path: Path, kind: str) -> list[tuple[int, dict[str, Any]]]:
    """``(seq, data)`` of every journaled event of ``kind``, in order."""
    rows = journal_rows(path, "select seq, data from events where kind = ? order by seq", kind)
    return [(seq, json.loads(data)) for seq, data in rows]


def journal_events(path: Path, kind: str | EventKind) -> list[dict[str, Any]]:
    """Every journaled event of ``kind``, in order: its data with its ``origin`` beside."""
    name = kind.value if isinstance(kind, EventKind) else kind
    rows = journal_rows(path, "select origin, data from events where kind = ? order by seq", name)
    return [{"origin": origin, **json.loads(data)} for origin, data in rows]


async def write_equity_rows(client: LocalEngineClient, rows: int = 3) -> None:
    """Equity rows as the marks timer writes them, written on the engine's own thread (the
    journal's connection belongs to it: a write from the test's thread races its commits)."""
    runner = client.runner
    assert runner.loop is not None and runner.journal is not None and runner.core is not None
    journal, core = runner.journal, runner.core
    done: concurrent.futures.Future[None] = concurrent.futures.Future()

    def write() -> None:
        try:
            for _ in range(rows):
                journal.append_equity(
                    runner.clock(),
                    [core.account_view(a) for a in core.portfolio.accounts],
                    runner.settings.engine.report_currency,
                    core.report_rates(),
                )
            done.set_result(None)
        except BaseException as exc:  # handed to the test
            done.set_exception(exc)

    runner.loop.call_soon_threadsafe(write)
    await asyncio.wrap_future(done)
