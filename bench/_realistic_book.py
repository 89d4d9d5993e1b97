"""The book every bench runs against: 2 accounts, 20 positions (a JPY pair and crosses that need
conversion through USD among them), 50 working orders, journaling on, quotes flowing.

Not a bench itself: `make bench` runs only files that do not start with an underscore.
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import json
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from tmt_tui.config import Settings, load_settings
from tmt_tui.domain.commands import Origin, SubmitOrder
from tmt_tui.domain.orders import OrderType

# Ten positions per account; SIM-EUR's AUD_CAD and NZD_JPY convert through USD.
POSITIONS = {
    "SIM-USD": ["EUR_USD", "GBP_USD", "USD_JPY", "AUD_USD", "USD_CAD", "EUR_JPY", "GBP_JPY",
                "EUR_GBP", "AUD_CAD", "CHF_JPY"],
    "SIM-EUR": ["EUR_USD", "USD_JPY", "AUD_CAD", "NZD_JPY", "GBP_CHF", "EUR_AUD", "CAD_JPY",
                "AUD_NZD", "GBP_AUD", "USD_CHF"],
}  # fmt: skip


def bench_settings(journal: Path, ticks_per_second: float = 20.0) -> Settings:
    """Default config with the order throttle opened up (a bench sends thousands a second)."""
    base = load_settings()
    accounts = tuple(
        dataclasses.replace(
            a,
            balance=Decimal("10000000"),
            risk=dataclasses.replace(
                a.risk,
                max_orders_per_second=1_000_000,
                max_working_orders=10_000,
                daily_loss_limit=Decimal("1000000"),
            ),
        )
        for a in base.accounts
    )
    return dataclasses.replace(
        base,
        accounts=accounts,
        engine=dataclasses.replace(base.engine, journal_path=str(journal)),
        sim=dataclasses.replace(base.sim, ticks_per_second=ticks_per_second),
    )


def temp_journal() -> Path:
    """A journal in a fresh temp dir, removed when the bench exits."""
    directory = tempfile.mkdtemp(prefix="tmt-bench-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return Path(directory) / "journal.db"


def opening_orders() -> list[SubmitOrder]:
    orders = []
    for account, names in POSITIONS.items():
        for i, name in enumerate(names):
            units = 10_000 * (1 + i % 3) * (1 if i % 2 == 0 else -1)
            orders.append(SubmitOrder(account, name, units, origin=Origin.CLI))
    return orders


def working_orders(mids: dict[str, Decimal], count: int = 50) -> list[SubmitOrder]:
    """Limit orders 3% away from the market: they rest, as most working orders do."""
    orders = []
    names = POSITIONS["SIM-USD"]
    for i in range(count):
        name = names[i % len(names)]
        account = "SIM-USD" if i % 2 == 0 else "SIM-EUR"
        precision = 3 if name.endswith("JPY") else 5
        buy = i % 4 < 2
        price = (mids[name] * Decimal("0.97" if buy else "1.03")).quantize(
            Decimal(1).scaleb(-precision)
        )
        orders.append(
            SubmitOrder(
                account, name, 1000 if buy else -1000, OrderType.LIMIT, price, origin=Origin.CLI
            )
        )
    return orders


async def seed_book(client: Any, mids: dict[str, Decimal]) -> None:
    for command in opening_orders() + working_orders(mids):
        reply = await client.execute(command)
        if not reply.ok:
            raise RuntimeError(f"seeding failed: {command} -> {reply}")


async def current_mids(client: Any) -> dict[str, Decimal]:
    stream = client.subscribe()
    snapshot = await stream.__anext__()
    await stream.aclose()
    return {q.instrument: q.mid for q in snapshot.quotes}


class FloorJournal:
    """A scratch database beside the journal (same file system) with the journal's pragmas, and
    one durable commit the size of an order ack's (three events and one order row), with a
    passive WAL checkpoint every 256 commits, as the engine folds its WAL between commits."""

    BODY = "x" * 300

    def __init__(self, path: Path) -> None:
        self.conn = conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("pragma journal_mode=wal")
        conn.execute("pragma synchronous=full")
        conn.execute("pragma wal_autocheckpoint=0")
        conn.execute("create table events (seq integer primary key, ts real, kind text, data text)")
        conn.execute("create table orders (id text primary key, body text) without rowid")
        self.commits = 0

    def commit(self) -> None:
        conn, i, body = self.conn, self.commits, self.BODY
        self.commits += 1
        conn.execute("begin")
        conn.executemany(
            "insert into events values (?, ?, ?, ?)",
            [(3 * i + k, 0.0, "order.filled", body) for k in range(3)],
        )
        conn.execute("insert or replace into orders values (?, ?)", (f"O{i}", body))
        conn.execute("commit")
        if i % 256 == 255:
            conn.execute("pragma wal_checkpoint(passive)")


def commit_floor(beside: Path, n: int = 2000) -> dict[str, float]:
    """Percentiles (µs) of ``n`` bare durable commits the size of an order ack's (FloorJournal)."""
    floor = FloorJournal(beside.with_name("floor.db"))
    samples = []
    for i in range(n + 100):
        start = now_ns()
        floor.commit()
        if i >= 100:
            samples.append(now_ns() - start)
    floor.conn.close()
    return percentiles(samples)


async def hop_floor(beside: Path, n: int = 2000) -> dict[str, float]:
    """Percentiles (µs) of the same bare durable commit as :func:`commit_floor`, made on another
    thread's event loop and awaited from this one: the two thread hops an in-process client's
    ack takes (the caller's loop -> the engine's -> back) around the commit, and nothing else.
    What an ack costs beyond this is tmt's own code."""
    floor = FloorJournal(beside.with_name("hop-floor.db"))
    engine_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=engine_loop.run_forever, daemon=True)
    thread.start()
    here = asyncio.get_running_loop()

    def commit(future: asyncio.Future[None]) -> None:
        floor.commit()
        here.call_soon_threadsafe(future.set_result, None)

    samples = []
    for i in range(n + 100):
        future: asyncio.Future[None] = here.create_future()
        start = now_ns()
        engine_loop.call_soon_threadsafe(commit, future)
        await future
        if i >= 100:
            samples.append(now_ns() - start)
    engine_loop.call_soon_threadsafe(engine_loop.stop)
    thread.join(5)
    floor.conn.close()
    return percentiles(samples)


def vs_hop_floor(figures: dict[str, float], floor: dict[str, float]) -> dict[str, float]:
    """The hop floor's p50/p99 beside ``figures``', and each as a ratio to it."""
    return {
        "hop_floor_p50_us": floor["p50_us"],
        "hop_floor_p99_us": floor["p99_us"],
        "hop_ratio_p50": round(figures["p50_us"] / floor["p50_us"], 2),
        "hop_ratio_p99": round(figures["p99_us"] / floor["p99_us"], 2),
    }


def vs_floor(figures: dict[str, float], floor: dict[str, float]) -> dict[str, float]:
    """The floor's p50/p99 beside ``figures``', and each as a ratio to it."""
    return {
        "floor_p50_us": floor["p50_us"],
        "floor_p99_us": floor["p99_us"],
        "ratio_p50": round(figures["p50_us"] / floor["p50_us"], 2),
        "ratio_p99": round(figures["p99_us"] / floor["p99_us"], 2),
    }


def percentiles(samples_ns: list[int], unit: str = "us") -> dict[str, float]:
    scale = {"us": 1e3, "ms": 1e6}[unit]
    ordered = sorted(samples_ns)
    n = len(ordered)

    def at(p: float) -> float:
        return round(ordered[min(n - 1, int(p * n))] / scale, 2)

    return {
        f"p50_{unit}": at(0.50),
        f"p95_{unit}": at(0.95),
        f"p99_{unit}": at(0.99),
        f"max_{unit}": round(ordered[-1] / scale, 2),
        f"mean_{unit}": round(statistics.fmean(ordered) / scale, 2),
    }


def report(result: dict[str, Any]) -> None:
    """The one JSON line `make bench` reads: always the last line a bench prints."""
    print(json.dumps(result))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def now_ns() -> int:
    return time.perf_counter_ns()


def monitoring() -> Any:
    """Metrics and alert rules as production runs them (`tmt` and `tmt engine` have them on)."""
    from tmt_tui.monitoring.service import Monitoring

    return Monitoring()


def start_engine(settings: Settings) -> Any:
    """The embedded engine with monitoring attached, and a client to it."""
    from tmt_tui.cli.embedded import engine_runner
    from tmt_tui.engine.local_client import LocalEngineClient

    runner = engine_runner(settings, observer=monitoring().observer)
    runner.start()
    return LocalEngineClient(runner)


def booted_runner(ticks_per_second: float = 20.0, journal: Path | None = None) -> Any:
    """A runner booted on this thread (no engine thread), holding the realistic book.

    For benches that time the synchronous core itself: they call the runner's own hot paths
    (``_on_quote``, ``_drain``) directly, so no thread hop blurs the figure.
    """
    from tmt_tui.cli.embedded import engine_runner

    settings = bench_settings(journal or temp_journal(), ticks_per_second)
    runner = engine_runner(settings, observer=monitoring().observer)
    runner.loop = asyncio.new_event_loop()
    runner.loop.run_until_complete(runner._boot())
    for inst in runner.venue.feed.instruments():
        runner._on_quote(runner.venue.feed.quote(inst.name))
    mids = {q.instrument: q.mid for q in runner.core.quotes.quotes.values()}
    for command in opening_orders() + working_orders(mids):
        drain(runner, [command])
    return runner


def drain(runner: Any, commands: list[Any]) -> list[Any]:
    """Apply commands through the runner's batch path (one durable commit); return the replies."""
    replies: list[Any] = []
    for command in commands:
        runner._commands.append((command, replies.append, time.perf_counter()))
    runner._drain()
    return replies
